import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { isIP } from 'node:net';
import { Agent, Dispatcher } from 'undici';
import { ENDPOINT_SLOTS } from './endpoint-lanes';

export interface PostResult {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const BODY_KEEP = 1024;
// Pools are per endpoint: beyond this many, the least recently used one is closed.
const MAX_POOLS = 1000;
const BODY_READ_LIMIT = 64 * 1024;

/**
 * Keep-alive HTTP client that connects only to an address the SSRF guard already checked:
 * each agent resolves its host to that pinned address (no second DNS lookup, so no rebinding),
 * while TLS still verifies the certificate for the real host name.
 */
@Injectable()
export class PinnedHttpClient implements OnApplicationShutdown {
  private readonly agents = new Map<string, Agent>();

  // One pool per endpoint: a slow endpoint's hanging connections never hold another's, even on
  // the same origin.
  private agentFor(endpointId: string, origin: string, address: string): Agent {
    const key = `${endpointId}|${origin}|${address}`;
    let agent = this.agents.get(key);
    if (agent) {
      // Map order is use order: the first entry is the pool used least recently.
      this.agents.delete(key);
    } else {
      const family = isIP(address);
      agent = new Agent({
        keepAliveTimeout: 30000,
        connections: ENDPOINT_SLOTS,
        connect: {
          lookup: (
            _host: string,
            opts: { all?: boolean },
            cb: (
              err: Error | null,
              address: string | { address: string; family: number }[],
              family?: number,
            ) => void,
          ) => (opts.all ? cb(null, [{ address, family }]) : cb(null, address, family)),
        },
      });
      if (this.agents.size >= MAX_POOLS) this.evictLeastRecentlyUsed();
    }
    this.agents.set(key, agent);
    return agent;
  }

  /**
   * POSTs without following redirects; keeps the first 1 KiB of the answer and reads at most
   * 64 KiB of it. Straight to the pool's dispatch with a plain handler: request() wraps every
   * call in an async resource, a body stream and an AbortSignal, and going without them cut the
   * worker's CPU per delivery by about a quarter. `timeoutMs` bounds the whole attempt, time in
   * the pool's queue included.
   */
  post(
    endpointId: string,
    url: URL,
    address: string,
    headers: Record<string, string>,
    body: string,
    timeoutMs: number,
  ): Promise<PostResult> {
    return new Promise((resolve, reject) => {
      const answer = new AnswerReader(resolve, reject, timeoutMs);
      this.agentFor(endpointId, url.origin, address).dispatch(
        {
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: 'POST',
          headers,
          body,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        },
        answer,
      );
    });
  }

  private evictLeastRecentlyUsed(): void {
    const [key, agent] = this.agents.entries().next().value!;
    this.agents.delete(key);
    void agent.close().catch(() => undefined); // lets its requests in flight finish
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.agents.values()].map((a) => a.close().catch(() => undefined)));
  }
}

/** Thrown when an attempt outlives its timeout (the sender records it as `timeout`). */
class AttemptTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** One answer, read as undici hands it over: status, headers and the kept part of the body. */
class AnswerReader implements Dispatcher.DispatchHandler {
  private controller?: Dispatcher.DispatchController;
  private readonly timer: NodeJS.Timeout;
  private settled = false;
  private statusCode = 0;
  private headers: PostResult['headers'] = {};
  private readonly kept: Buffer[] = [];
  private read = 0;

  constructor(
    private readonly resolve: (result: PostResult) => void,
    private readonly reject: (err: Error) => void,
    timeoutMs: number,
  ) {
    this.timer = setTimeout(() => {
      const timedOut = new AttemptTimeoutError();
      this.fail(timedOut);
      this.controller?.abort(timedOut);
    }, timeoutMs);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // Timed out while queued for a connection: never sent.
    if (this.settled) controller.abort(new AttemptTimeoutError());
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: PostResult['headers'],
  ): void {
    this.statusCode = statusCode;
    this.headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.read < BODY_KEEP) this.kept.push(chunk.subarray(0, BODY_KEEP - this.read));
    this.read += chunk.length;
    // Enough read: the answer so far is the attempt's, and the connection is dropped.
    if (this.read > BODY_READ_LIMIT) {
      this.finish();
      controller.abort(new Error('answer too long'));
    }
  }

  onResponseEnd(): void {
    this.finish();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.fail(error);
  }

  private finish(): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.resolve({
      statusCode: this.statusCode,
      headers: this.headers,
      // PostgreSQL text cannot hold NUL: an answer containing one could never be recorded.
      body: Buffer.concat(this.kept).toString('utf8').replaceAll('\u0000', '\uFFFD'),
    });
  }

  private fail(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.reject(error);
  }
}
