import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { isIP } from 'node:net';
import { Agent } from 'undici';
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

  /** POSTs without following redirects; keeps the first 1 KiB of the answer. */
  async post(
    endpointId: string,
    url: URL,
    address: string,
    headers: Record<string, string>,
    body: string,
    timeoutMs: number,
  ): Promise<PostResult> {
    // Straight to the pool: the top-level request() parses the URL again on every call.
    const res = await this.agentFor(endpointId, url.origin, address).request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      headers,
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    let read = 0;
    const kept: Buffer[] = [];
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      if (read < BODY_KEEP) kept.push(chunk.subarray(0, BODY_KEEP - read));
      read += chunk.length;
      if (read > BODY_READ_LIMIT) {
        res.body.destroy();
        break;
      }
    }
    return {
      statusCode: res.statusCode,
      headers: res.headers,
      // PostgreSQL text cannot hold NUL: an answer containing one could never be recorded.
      body: Buffer.concat(kept).toString('utf8').replaceAll('\u0000', '\uFFFD'),
    };
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
