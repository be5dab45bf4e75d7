import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { waitFor } from './ledgerline';

/** One request the receiver got, as it arrived on the wire. */
export interface ReceivedRequest {
  method: string;
  path: string;
  /** Lower-cased header names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  /** The raw body, exactly as sent (what a signature is computed over). */
  body: string;
  /** Date.now() when the request was complete. */
  at: number;
}

/** How to answer one request. `hang: true` never answers (until the receiver is closed). */
export interface Answer {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  delayMs?: number;
  hang?: boolean;
}

/**
 * What a path answers: one answer for every request, a sequence (the n-th request gets the n-th
 * answer, the last one repeats), or a function of the request and its 0-based index on the path.
 */
export type Behaviour = Answer | Answer[] | ((req: ReceivedRequest, index: number) => Answer);

/**
 * A real HTTP webhook receiver on 127.0.0.1: records every request and answers as told per path
 * (default 200 `ok`). It can be closed (an outage: connections refused) and reopened on the same
 * port.
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  private readonly behaviours = new Map<string, Behaviour>();
  private readonly perPath = new Map<string, number>();
  private readonly sockets = new Set<Socket>();
  private readonly hanging = new Set<ServerResponse>();
  private server?: Server;
  private fallback: Behaviour = { status: 200, body: 'ok' };
  port = 0;

  static async start(port = 0): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    await receiver.listen(port);
    return receiver;
  }

  get isOpen(): boolean {
    return this.server !== undefined;
  }

  /** `http://127.0.0.1:<port><path>`; paths should start with '/'. */
  url(path = '/'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Sets how `path` answers from now on (its request index restarts at 0). */
  on(path: string, behaviour: Behaviour): this {
    this.behaviours.set(path, behaviour);
    this.perPath.set(path, 0);
    return this;
  }

  /** How paths without their own behaviour answer. */
  otherwise(behaviour: Behaviour): this {
    this.fallback = behaviour;
    return this;
  }

  received(path?: string): ReceivedRequest[] {
    return path === undefined ? this.requests : this.requests.filter((r) => r.path === path);
  }

  /** Waits until at least `n` requests (on `path`, if given) have been recorded. */
  async waitForCount(n: number, path?: string, timeoutMs = 30000): Promise<ReceivedRequest[]> {
    return waitFor(
      `${n} request(s)${path ? ` on ${path}` : ''} (have ${this.received(path).length})`,
      async () => {
        const got = this.received(path);
        return got.length >= n ? got : undefined;
      },
      timeoutMs,
      50,
    );
  }

  /** Stops listening and drops every connection (kept-alive and hanging ones too). */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    server.closeAllConnections();
    await closed;
  }

  /** Listens again on the same port as before. */
  async reopen(): Promise<void> {
    if (this.server) return;
    await this.listen(this.port);
  }

  private async listen(port: number): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 5000;
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      const path = (req.url ?? '/').split('?')[0];
      const received: ReceivedRequest = {
        method: req.method ?? '',
        path,
        headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      this.requests.push(received);
      const index = this.perPath.get(path) ?? 0;
      this.perPath.set(path, index + 1);
      const answer = this.answerFor(path, received, index);
      if (answer.hang) {
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        return;
      }
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(answer.status ?? 200, {
          'content-type': 'text/plain',
          ...answer.headers,
        });
        res.end(answer.body ?? '');
      };
      // unref: an answer still delayed when the suite ends must not keep Jest running.
      if (answer.delayMs) setTimeout(send, answer.delayMs).unref();
      else send();
    });
  }

  private answerFor(path: string, req: ReceivedRequest, index: number): Answer {
    const behaviour = this.behaviours.get(path) ?? this.fallback;
    if (typeof behaviour === 'function') return behaviour(req, index);
    if (Array.isArray(behaviour)) return behaviour[Math.min(index, behaviour.length - 1)] ?? {};
    return behaviour;
  }
}

/** The Standard Webhooks body Ledgerline sends. */
export interface WebhookPayload {
  type: string;
  timestamp: string;
  data: {
    id: string;
    type: string;
    subject: string | null;
    actor: { type: string; id: string };
    actingAsTenantId: string | null;
    occurredAt: string;
    data: Record<string, unknown>;
  };
}

/**
 * Verifies a received request with the `standardwebhooks` library, as a subscriber would, and
 * returns the parsed payload; throws WebhookVerificationError when it does not verify.
 */
export function verified(req: ReceivedRequest, secret: string): WebhookPayload {
  return new Webhook(secret).verify(req.body, req.headers) as WebhookPayload;
}

/** The parsed body, without verifying it. */
export function payloadOf(req: ReceivedRequest): WebhookPayload {
  return JSON.parse(req.body) as WebhookPayload;
}
