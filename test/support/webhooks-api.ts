import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PG_BASE, Ledgerline, event, waitFor } from './ledgerline';
import { payloadOf, ReceivedRequest } from './webhook-receiver';

const run = promisify(execFile);

/** Settings the webhook suites share: deliver to the local receiver, retry within a second or two. */
export const LOCAL_DELIVERY = {
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32',
  WEBHOOK_RETRY_SCHEDULE: '200ms,400ms,800ms',
  WEBHOOK_DISABLE_AFTER_SECONDS: '0',
  WEBHOOK_TIMEOUT_MS: '2000',
};

const SECRET = /^whsec_([A-Za-z0-9+/]+={0,2})$/;

export interface Endpoint {
  id: string;
  url: string;
  eventTypes: string[];
  status: string;
  secret: string;
}

export interface Attempt {
  attemptedAt: string;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseBody: string | null;
}

export interface Delivery {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  status: 'pending' | 'succeeded' | 'failed' | 'waiting';
  attemptCount: number;
  nextAttemptAt: string | null;
  attempts: Attempt[];
}

/** Thin client of the webhooks API for one tenant of one Ledgerline. */
export class WebhooksClient {
  /** Every plaintext secret this client was shown. */
  readonly secrets: string[] = [];

  constructor(
    private readonly ll: Ledgerline,
    readonly key: string,
  ) {}

  async create(
    url: string,
    eventTypes: string[],
    extra: Record<string, unknown> = {},
  ): Promise<Endpoint> {
    const res = await this.ll.request('POST', '/v1/webhooks/endpoints', {
      key: this.key,
      body: { url, eventTypes, ...extra },
    });
    expect(res.status).toBe(201);
    this.secrets.push(res.body.secret);
    return res.body as Endpoint;
  }

  async rotate(id: string): Promise<string> {
    const res = await this.ll.request('POST', `/v1/webhooks/endpoints/${id}/rotate-secret`, {
      key: this.key,
    });
    expect(res.status).toBe(200);
    this.secrets.push(res.body.secret);
    return res.body.secret as string;
  }

  async get(id: string) {
    return this.ll.request('GET', `/v1/webhooks/endpoints/${id}`, { key: this.key });
  }

  async publish(type: string, overrides: Record<string, unknown> = {}) {
    const res = await this.ll.request('POST', '/v1/events', {
      key: this.key,
      body: event({ type, ...overrides }),
    });
    expect(res.status).toBe(202);
    return res.body as { id: string; receivedAt: string };
  }

  async deliveries(endpointId: string, status?: string): Promise<Delivery[]> {
    const res = await this.ll.request(
      'GET',
      `/v1/webhooks/endpoints/${endpointId}/deliveries?limit=500${status ? `&status=${status}` : ''}`,
      { key: this.key },
    );
    expect(res.status).toBe(200);
    return res.body.data as Delivery[];
  }

  /** Waits until the endpoint's delivery of `eventId` has `status` (and passes `extra`). */
  async waitDelivery(
    endpointId: string,
    eventId: string,
    status: Delivery['status'],
    extra: (d: Delivery) => boolean = () => true,
    timeoutMs = 30000,
  ): Promise<Delivery> {
    return waitFor(
      `delivery of ${eventId} to ${endpointId} to be ${status}`,
      async () =>
        (await this.deliveries(endpointId, status)).find((d) => d.eventId === eventId && extra(d)),
      timeoutMs,
    );
  }

  async deliveryCounts(eventId: string) {
    const res = await this.ll.request('GET', `/v1/events/${eventId}`, { key: this.key });
    expect(res.status).toBe(200);
    return res.body.deliveries as { pending: number; succeeded: number; failed: number };
  }
}

/** The requests that carried event `eventId`. */
export const forEvent = (requests: ReceivedRequest[], eventId: string) =>
  requests.filter((r) => payloadOf(r).data.id === eventId);

/** The request's signatures (`v1,<base64>` each). */
export const signatures = (req: ReceivedRequest) => req.headers['webhook-signature'].split(' ');

/** `whsec_` and the canonical base64 of 24 to 64 random bytes. */
export function expectSecretFormat(secret: string): void {
  const match = SECRET.exec(secret);
  expect(match).not.toBeNull();
  const bytes = Buffer.from(match![1], 'base64');
  expect(bytes.toString('base64')).toBe(match![1]);
  expect(bytes.length).toBeGreaterThanOrEqual(24);
  expect(bytes.length).toBeLessThanOrEqual(64);
}

/** Every plaintext secret is absent from the whole database and from every process's output. */
export async function expectSecretsNowhere(ll: Ledgerline, secrets: string[]): Promise<void> {
  const { stdout: dump } = await run(
    'pg_dump',
    ['-h', new URL(PG_BASE).hostname, '-U', 'postgres', '--data-only', ll.dbName],
    { maxBuffer: 512 * 1024 * 1024 },
  );
  expect(dump).toContain('webhook_endpoints'); // the dump is real and has the table
  const logs = ll.logs();
  expect(logs.length).toBeGreaterThan(0);
  for (const secret of secrets) {
    const base64 = secret.replace(/^whsec_/, '');
    for (const needle of [secret, base64]) {
      expect(dump.includes(needle)).toBe(false);
      expect(logs.includes(needle)).toBe(false);
    }
  }
}
