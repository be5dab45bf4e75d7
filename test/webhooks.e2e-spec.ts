import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { SecretBox } from '@app/security';
import { PG_BASE, Ledgerline, Tenant, event, waitFor } from './support/ledgerline';
import { payloadOf, ReceivedRequest, verified, WebhookReceiver } from './support/webhook-receiver';

const run = promisify(execFile);

/** Settings every suite here shares: deliver to the local receiver, retry within a second or two. */
const LOCAL_DELIVERY = {
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32',
  WEBHOOK_RETRY_SCHEDULE: '200ms,400ms,800ms',
  WEBHOOK_DISABLE_AFTER_SECONDS: '0',
  WEBHOOK_TIMEOUT_MS: '2000',
};
const SECRET = /^whsec_([A-Za-z0-9+/]+={0,2})$/;

interface Endpoint {
  id: string;
  url: string;
  eventTypes: string[];
  status: string;
  secret: string;
}

interface Attempt {
  attemptedAt: string;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseBody: string | null;
}

interface Delivery {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  status: 'pending' | 'succeeded' | 'failed' | 'waiting';
  attemptCount: number;
  nextAttemptAt: string | null;
  attempts: Attempt[];
}

/** Thin client for one tenant of one Ledgerline. */
class WebhooksClient {
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

const forEvent = (requests: ReceivedRequest[], eventId: string) =>
  requests.filter((r) => payloadOf(r).data.id === eventId);

const signatures = (req: ReceivedRequest) => req.headers['webhook-signature'].split(' ');

function expectSecretFormat(secret: string): void {
  const match = SECRET.exec(secret);
  expect(match).not.toBeNull();
  const bytes = Buffer.from(match![1], 'base64');
  expect(bytes.toString('base64')).toBe(match![1]);
  expect(bytes.length).toBeGreaterThanOrEqual(24);
  expect(bytes.length).toBeLessThanOrEqual(64);
}

/** Every plaintext secret is absent from the whole database and from every process's output. */
async function expectSecretsNowhere(ll: Ledgerline, secrets: string[]): Promise<void> {
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

describe('webhooks: endpoints and delivery', () => {
  let ll: Ledgerline;
  let receiver: WebhookReceiver;
  let acme: Tenant;
  let globex: Tenant;
  let hooks: WebhooksClient;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    ll = await Ledgerline.start({
      env: { ...LOCAL_DELIVERY, WEBHOOK_DISABLE_AFTER_FAILURES: '50' },
    });
    acme = await ll.createTenant('acme');
    globex = await ll.createTenant('globex');
    hooks = new WebhooksClient(ll, acme.apiKey);
  });
  afterAll(async () => {
    await ll?.stop();
    await receiver?.close();
  });

  it('creates, reads, lists, updates and deletes endpoints; the secret is shown only at creation', async () => {
    const res = await ll.request('POST', '/v1/webhooks/endpoints', {
      key: acme.apiKey,
      body: {
        url: receiver.url('/crud'),
        eventTypes: ['invoice.paid', 'invoice.*', '*'],
        description: 'billing system',
        rateLimitPerSecond: 50,
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      url: receiver.url('/crud'),
      eventTypes: ['invoice.paid', 'invoice.*', '*'],
      status: 'enabled',
      secret: expect.any(String),
    });
    const { id, secret } = res.body as Endpoint;
    hooks.secrets.push(secret);
    expectSecretFormat(secret);
    const base64 = secret.replace(/^whsec_/, '');

    const one = await hooks.get(id);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      id,
      url: receiver.url('/crud'),
      eventTypes: ['invoice.paid', 'invoice.*', '*'],
      status: 'enabled',
    });
    expect(one.body).not.toHaveProperty('secret');
    expect(one.text).not.toContain(base64);

    const second = await hooks.create(receiver.url('/crud2'), ['user.*']);
    expect(second.secret).not.toBe(secret);
    const list = await ll.request('GET', '/v1/webhooks/endpoints', { key: acme.apiKey });
    expect(list.status).toBe(200);
    expect(list.body.data.map((e: Endpoint) => e.id)).toEqual(
      expect.arrayContaining([id, second.id]),
    );
    expect(list.body).toHaveProperty('nextCursor');
    for (const e of list.body.data) expect(e).not.toHaveProperty('secret');
    expect(list.text).not.toContain(base64);
    expect(list.text).not.toContain(second.secret.replace(/^whsec_/, ''));
    const page = await ll.request('GET', '/v1/webhooks/endpoints?limit=1', { key: acme.apiKey });
    expect(page.body.data).toHaveLength(1);
    expect(page.body.nextCursor).toEqual(expect.any(String));

    const patched = await ll.request('PATCH', `/v1/webhooks/endpoints/${id}`, {
      key: acme.apiKey,
      body: { eventTypes: ['order.*'], description: 'orders now' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      id,
      eventTypes: ['order.*'],
      description: 'orders now',
      status: 'enabled',
    });
    expect(patched.body).not.toHaveProperty('secret');
    expect((await hooks.get(id)).body.eventTypes).toEqual(['order.*']);

    const bad = [
      { eventTypes: [] },
      { eventTypes: ['Not A Type'] },
      { eventTypes: ['invoice.*.paid'] },
      { status: 'disabled' },
      { url: 'not a url' },
    ];
    for (const body of bad) {
      const r = await ll.request('PATCH', `/v1/webhooks/endpoints/${id}`, {
        key: acme.apiKey,
        body,
      });
      expect({ body, status: r.status, code: r.body?.code }).toEqual({
        body,
        status: 400,
        code: 'validation_failed',
      });
    }
    const unsafe = await ll.request('PATCH', `/v1/webhooks/endpoints/${id}`, {
      key: acme.apiKey,
      body: { url: 'https://169.254.169.254/latest/meta-data' },
    });
    expect(unsafe.status).toBe(422);
    expect(unsafe.body.code).toBe('unsafe_url');
    expect((await hooks.get(id)).body.url).toBe(receiver.url('/crud'));

    const del = await ll.request('DELETE', `/v1/webhooks/endpoints/${id}`, { key: acme.apiKey });
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    expect((await hooks.get(id)).status).toBe(404);
    expect(
      (await ll.request('DELETE', `/v1/webhooks/endpoints/${id}`, { key: acme.apiKey })).status,
    ).toBe(404);
    const after = await ll.request('GET', '/v1/webhooks/endpoints', { key: acme.apiKey });
    expect(after.body.data.map((e: Endpoint) => e.id)).not.toContain(id);
    expect((await hooks.get(randomUUID())).status).toBe(404);
  });

  it('delivers a Standard Webhooks request that the standardwebhooks library verifies', async () => {
    const ep = await hooks.create(receiver.url('/format'), ['fmt.invoice.paid']);
    const published = await hooks.publish('fmt.invoice.paid', {
      subject: 'invoice/inv_9',
      actor: { type: 'service', id: 'billing' },
      actingAsTenantId: globex.tenantId,
      occurredAt: '2026-11-22T10:00:00Z',
      data: { amount: 1200, currency: 'EUR', lines: [{ sku: 'a', qty: 2 }], note: 'Zürich € 🚀' },
    });
    const [req] = await receiver.waitForCount(1, '/format');
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toMatch(/^application\/json\b/);
    expect(req.headers['webhook-timestamp']).toMatch(/^\d+$/);
    expect(signatures(req)).toHaveLength(1);
    expect(signatures(req)[0]).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}$/);

    const payload = verified(req, ep.secret);
    expect(payload).toEqual({
      type: 'fmt.invoice.paid',
      timestamp: published.receivedAt,
      data: {
        id: published.id,
        type: 'fmt.invoice.paid',
        subject: 'invoice/inv_9',
        actor: { type: 'service', id: 'billing' },
        actingAsTenantId: globex.tenantId,
        occurredAt: '2026-11-22T10:00:00.000Z',
        data: {
          amount: 1200,
          currency: 'EUR',
          lines: [{ sku: 'a', qty: 2 }],
          note: 'Zürich € 🚀',
        },
      },
    });
    expect(new Date(payload.timestamp).toISOString()).toBe(payload.timestamp);

    // The webhook-id is the delivery's id, and the delivery is logged as succeeded.
    const delivery = await hooks.waitDelivery(ep.id, published.id, 'succeeded');
    expect(req.headers['webhook-id']).toBe(delivery.id);
    expect(delivery).toMatchObject({
      endpointId: ep.id,
      eventType: 'fmt.invoice.paid',
      attemptCount: 1,
    });
    expect(delivery.attempts).toEqual([
      {
        attemptedAt: expect.any(String),
        statusCode: 200,
        durationMs: expect.any(Number),
        error: null,
        responseBody: 'ok',
      },
    ]);

    // A subscriber's verification really checks: another secret, a changed body or id fail.
    const other = await hooks.create(receiver.url('/format-other'), ['fmt.never']);
    expect(() => verified(req, other.secret)).toThrow();
    expect(() => verified({ ...req, body: req.body.replace('1200', '1201') }, ep.secret)).toThrow();
    expect(() =>
      verified({ ...req, headers: { ...req.headers, 'webhook-id': randomUUID() } }, ep.secret),
    ).toThrow();
  });

  it('matches exact, prefix.* and * patterns and delivers nothing else', async () => {
    const exact = await hooks.create(receiver.url('/f-exact'), ['shop.order.paid']);
    const prefix = await hooks.create(receiver.url('/f-prefix'), ['shop.order.*']);
    const other = await hooks.create(receiver.url('/f-other'), ['billing.*', 'shop.cart.removed']);
    const star = await hooks.create(receiver.url('/f-star'), ['*']);
    const paid = await hooks.publish('shop.order.paid');
    const refund = await hooks.publish('shop.order.refund.issued');
    const plural = await hooks.publish('shop.orders.paid');
    const cart = await hooks.publish('shop.cart.created');
    const ids = [paid.id, refund.id, plural.id, cart.id];

    // '*' gets every one of them: fan-out has then handled all four events.
    await waitFor('star endpoint to get all four events', async () =>
      ids.every((id) => forEvent(receiver.received('/f-star'), id).length > 0),
    );
    const expected: Record<string, string[]> = {
      [exact.id]: [paid.id],
      [prefix.id]: [paid.id, refund.id],
      [other.id]: [],
      [star.id]: ids,
    };
    const rows = await ll.sql<{ endpoint_id: string; event_id: string }>(
      'SELECT endpoint_id, event_id FROM webhook_deliveries WHERE event_id = ANY($1)',
      [ids],
    );
    for (const [endpointId, eventIds] of Object.entries(expected)) {
      expect(
        rows
          .filter((r) => r.endpoint_id === endpointId)
          .map((r) => r.event_id)
          .sort(),
      ).toEqual([...eventIds].sort());
    }
    for (const id of [paid.id, refund.id]) await hooks.waitDelivery(prefix.id, id, 'succeeded');
    await hooks.waitDelivery(exact.id, paid.id, 'succeeded');
    const got = (path: string) =>
      [...new Set(receiver.received(path).map((r) => payloadOf(r).data.id))].sort();
    expect(got('/f-exact')).toEqual([paid.id]);
    expect(got('/f-prefix')).toEqual([paid.id, refund.id].sort());
    expect(receiver.received('/f-other')).toHaveLength(0);
    for (const req of receiver.received('/f-prefix')) verified(req, prefix.secret);
    for (const req of receiver.received('/f-exact')) verified(req, exact.secret);

    // One event to three endpoints: the event shows three successful deliveries.
    await waitFor('three deliveries of the paid event', async () => {
      const counts = await hooks.deliveryCounts(paid.id);
      return counts.succeeded === 3 && counts;
    });
    expect(await hooks.deliveryCounts(paid.id)).toEqual({ pending: 0, succeeded: 3, failed: 0 });
    expect(await hooks.deliveryCounts(plural.id)).toEqual({ pending: 0, succeeded: 1, failed: 0 });

    // The catch-all would otherwise receive every later test's events too.
    expect(
      (await ll.request('DELETE', `/v1/webhooks/endpoints/${star.id}`, { key: acme.apiKey }))
        .status,
    ).toBe(204);
  });

  it('does not send an endpoint events that were published before it was created', async () => {
    const older = await hooks.publish('late.thing.happened');
    const late = await hooks.create(receiver.url('/late'), ['late.*']);
    const newer = await hooks.publish('late.thing.happened');
    const [req] = await receiver.waitForCount(1, '/late');
    expect(verified(req, late.secret).data.id).toBe(newer.id);
    await hooks.waitDelivery(late.id, newer.id, 'succeeded');
    const rows = await ll.sql(
      'SELECT event_id FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY created_at',
      [late.id],
    );
    expect(rows.map((r) => r.event_id)).toEqual([newer.id]);
    expect(forEvent(receiver.received('/late'), older.id)).toHaveLength(0);
    // Fan-out has been past the older event all along (deliveries are created in order).
    const cursor = await ll.sql(
      `SELECT s.position >= e.position AS past FROM stream_cursors s, events e
       WHERE s.tenant_id = $1 AND s.consumer = 'fanout' AND e.id = $2`,
      [acme.tenantId, older.id],
    );
    expect(cursor).toEqual([{ past: true }]);
  });

  it('retries with the same webhook-id and logs every attempt, keeping 1 KiB of each answer', async () => {
    const big = 'x'.repeat(5 * 1024);
    receiver.on('/flaky', [
      { status: 500, body: big },
      { status: 500, body: big },
      { status: 200, body: 'thanks' },
    ]);
    const ep = await hooks.create(receiver.url('/flaky'), ['flaky.*']);
    const published = await hooks.publish('flaky.event');
    const reqs = await receiver.waitForCount(3, '/flaky');
    expect(new Set(reqs.map((r) => r.headers['webhook-id'])).size).toBe(1);
    for (const r of reqs) expect(verified(r, ep.secret).data.id).toBe(published.id);

    const delivery = await hooks.waitDelivery(ep.id, published.id, 'succeeded');
    expect(delivery.id).toBe(reqs[0].headers['webhook-id']);
    expect(delivery.attemptCount).toBe(3);
    expect(delivery.nextAttemptAt).toBeNull();
    expect(delivery.attempts.map((a) => [a.statusCode, a.error])).toEqual([
      [500, expect.any(String)],
      [500, expect.any(String)],
      [200, null],
    ]);
    for (const a of delivery.attempts) {
      expect(new Date(a.attemptedAt).toISOString()).toBe(a.attemptedAt);
      expect(a.durationMs).toEqual(expect.any(Number));
      expect(a.durationMs).toBeGreaterThanOrEqual(0);
    }
    const times = delivery.attempts.map((a) => Date.parse(a.attemptedAt));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    for (const a of delivery.attempts.slice(0, 2)) {
      expect(a.responseBody!.length).toBeGreaterThan(0);
      expect(a.responseBody!.length).toBeLessThanOrEqual(1024);
      expect(big.startsWith(a.responseBody!)).toBe(true);
    }
    expect(delivery.attempts[2].responseBody).toBe('thanks');

    // The status filter.
    expect((await hooks.deliveries(ep.id, 'pending')).map((d) => d.id)).not.toContain(delivery.id);
    expect((await hooks.deliveries(ep.id, 'failed')).map((d) => d.id)).not.toContain(delivery.id);
    expect((await hooks.deliveries(ep.id)).map((d) => d.id)).toContain(delivery.id);
    const bogus = await ll.request(
      'GET',
      `/v1/webhooks/endpoints/${ep.id}/deliveries?status=bogus`,
      { key: acme.apiKey },
    );
    expect(bogus.status).toBe(400);
    expect(bogus.body.code).toBe('validation_failed');
  });

  it('marks a delivery failed when the schedule is exhausted, and retry re-sends it', async () => {
    receiver.on('/down', { status: 500, body: 'down' });
    const ep = await hooks.create(receiver.url('/down'), ['down.*']);
    const published = await hooks.publish('down.event');
    // First attempt plus one per entry of the schedule (200ms,400ms,800ms).
    const failed = await hooks.waitDelivery(ep.id, published.id, 'failed');
    expect(failed.attemptCount).toBe(4);
    expect(failed.attempts).toHaveLength(4);
    expect(failed.attempts.every((a) => a.statusCode === 500 && a.error)).toBe(true);
    expect(failed.nextAttemptAt).toBeNull();
    expect(receiver.received('/down')).toHaveLength(4);
    expect(await hooks.deliveryCounts(published.id)).toEqual({
      pending: 0,
      succeeded: 0,
      failed: 1,
    });
    expect((await hooks.get(ep.id)).body.status).toBe('enabled');

    receiver.on('/down', { status: 204 });
    const retried = await ll.request('POST', `/v1/webhooks/deliveries/${failed.id}/retry`, {
      key: acme.apiKey,
    });
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ id: failed.id });
    const reqs = await receiver.waitForCount(5, '/down');
    expect(new Set(reqs.map((r) => r.headers['webhook-id']))).toEqual(new Set([failed.id]));
    verified(reqs[4], ep.secret);
    const done = await hooks.waitDelivery(ep.id, published.id, 'succeeded');
    expect(done.attempts.map((a) => a.statusCode)).toEqual([500, 500, 500, 500, 204]);
    expect(await hooks.deliveryCounts(published.id)).toEqual({
      pending: 0,
      succeeded: 1,
      failed: 0,
    });
  });

  it('recover re-sends failed deliveries and backfills matching events the endpoint never had', async () => {
    const ancient = await hooks.publish('recov.thing');
    await new Promise((r) => setTimeout(r, 5));
    const since = new Date(Date.parse(ancient.receivedAt) + 1);
    const before = await hooks.publish('recov.thing');
    const unrelated = await hooks.publish('recov2.thing');
    receiver.on('/recov', { status: 500 });
    const ep = await hooks.create(receiver.url('/recov'), ['recov.*']);
    const failing = await hooks.publish('recov.thing');
    const failed = await hooks.waitDelivery(ep.id, failing.id, 'failed');

    receiver.on('/recov', { status: 200 });
    const res = await ll.request('POST', `/v1/webhooks/endpoints/${ep.id}/recover`, {
      key: acme.apiKey,
      body: { since: since.toISOString() },
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ endpointId: ep.id, resent: 1, created: 1 });
    const resent = await hooks.waitDelivery(ep.id, failing.id, 'succeeded');
    expect(resent.id).toBe(failed.id);
    const backfilled = await hooks.waitDelivery(ep.id, before.id, 'succeeded');
    const byEvent = (id: string) => forEvent(receiver.received('/recov'), id);
    expect(byEvent(failing.id).map((r) => r.headers['webhook-id'])).toEqual(
      Array(byEvent(failing.id).length).fill(failed.id),
    );
    expect(byEvent(before.id).map((r) => r.headers['webhook-id'])).toEqual([backfilled.id]);
    for (const r of receiver.received('/recov')) verified(r, ep.secret);
    // Before `since`, or not matching: never delivered.
    expect(byEvent(ancient.id)).toHaveLength(0);
    expect(byEvent(unrelated.id)).toHaveLength(0);
    const rows = await ll.sql('SELECT event_id FROM webhook_deliveries WHERE endpoint_id = $1', [
      ep.id,
    ]);
    expect(rows.map((r) => r.event_id).sort()).toEqual([before.id, failing.id].sort());

    const invalid = await ll.request('POST', `/v1/webhooks/endpoints/${ep.id}/recover`, {
      key: acme.apiKey,
      body: { since: 'yesterday' },
    });
    expect(invalid.status).toBe(400);
  });

  it('honours Retry-After on 429 and 503, capped at four times the next scheduled delay', async () => {
    const inAnHour = new Date(Date.now() + 3600_000).toUTCString();
    receiver.on('/busy', [
      { status: 429, headers: { 'retry-after': '30' } }, // next delay 200ms: capped to 800ms
      { status: 503, headers: { 'retry-after': '1' } }, // next delay 400ms: 1s is honoured
      { status: 429, headers: { 'retry-after': inAnHour } }, // HTTP-date; 800ms: capped to 3.2s
      { status: 200 },
    ]);
    const ep = await hooks.create(receiver.url('/busy'), ['busy.*']);
    const published = await hooks.publish('busy.event');
    // Uncapped, the second attempt would come after 30 s and the fourth after an hour.
    const reqs = await receiver.waitForCount(4, '/busy', 20000);
    const gaps = reqs.slice(1).map((r, i) => r.at - reqs[i].at);
    // Each gap is the capped (or honoured) delay: not before it, and well before the uncapped one.
    const SLACK = 1500;
    expect(gaps[0]).toBeGreaterThanOrEqual(800 - 50);
    expect(gaps[0]).toBeLessThan(800 + SLACK);
    expect(gaps[1]).toBeGreaterThanOrEqual(1000 - 50);
    expect(gaps[1]).toBeLessThan(1000 + SLACK);
    expect(gaps[2]).toBeGreaterThanOrEqual(3200 - 50);
    expect(gaps[2]).toBeLessThan(3200 + SLACK);
    const done = await hooks.waitDelivery(ep.id, published.id, 'succeeded');
    expect(done.attempts.map((a) => a.statusCode)).toEqual([429, 503, 429, 200]);
    expect(new Set(reqs.map((r) => r.headers['webhook-id'])).size).toBe(1);
  });

  it('paces deliveries to rateLimitPerSecond, and the limit is what paces them', async () => {
    const LIMIT = 5;
    const N = 30;
    const paced = await hooks.create(receiver.url('/paced'), ['paced.*'], {
      rateLimitPerSecond: LIMIT,
    });
    // Same events, same worker, no limit: shows how fast delivery goes without it.
    await hooks.create(receiver.url('/unpaced'), ['paced.*']);
    const events = Array.from({ length: N }, (_, i) => event({ type: 'paced.tick', data: { i } }));
    const res = await ll.request('POST', '/v1/events/batch', {
      key: acme.apiKey,
      body: { events },
    });
    expect(res.status).toBe(202);
    const free = await receiver.waitForCount(N, '/unpaced', 15000);
    const got = await receiver.waitForCount(N, '/paced', 30000);
    const at = got.map((r) => r.at).sort((x, y) => x - y);
    const span = at[N - 1] - at[0];
    const freeAt = free.map((r) => r.at).sort((x, y) => x - y);
    const freeSpan = freeAt[N - 1] - freeAt[0];
    // N at LIMIT/s in one-second windows: at least N/LIMIT - 1 seconds from first to last…
    expect(span).toBeGreaterThanOrEqual((N / LIMIT - 1) * 1000 - 250);
    // …at about LIMIT per second overall, and never more than two windows' worth in any second.
    const rate = (N - 1) / (span / 1000);
    expect(rate).toBeGreaterThan(LIMIT / 2);
    expect(rate).toBeLessThanOrEqual(LIMIT * 1.3);
    for (let i = 0; i < N; i++) {
      expect(at.filter((t) => t >= at[i] && t < at[i] + 1000).length).toBeLessThanOrEqual(
        2 * LIMIT,
      );
    }
    // Without the limit the same deliveries arrive far faster: the pacing is the limiter's.
    expect(freeSpan).toBeLessThan(span / 3);
    // Pacing delays attempts; it does not fail them.
    const log = await hooks.deliveries(paced.id);
    expect(log).toHaveLength(N);
    for (const d of log) {
      expect(d.status).toBe('succeeded');
      expect(d.attempts).toHaveLength(1);
    }
    expect(new Set(got.map((r) => payloadOf(r).data.id)).size).toBe(N);
  });

  it('does not follow redirects: a 3xx is a failed attempt', async () => {
    receiver.on('/redirect', {
      status: 302,
      headers: { location: receiver.url('/redirect-target') },
    });
    receiver.on('/redirect-target', { status: 200 });
    const ep = await hooks.create(receiver.url('/redirect'), ['redirect.*']);
    const published = await hooks.publish('redirect.event');
    const failed = await hooks.waitDelivery(ep.id, published.id, 'failed');
    expect(failed.attempts).toHaveLength(4);
    for (const a of failed.attempts) {
      expect(a.statusCode).toBe(302);
      expect(a.error).toEqual(expect.any(String));
    }
    expect(receiver.received('/redirect')).toHaveLength(4);
    expect(receiver.received('/redirect-target')).toHaveLength(0);
  });

  it('fails an attempt that is not answered within the timeout, then retries', async () => {
    receiver.on('/slow', [{ status: 200, delayMs: 4000 }, { status: 200 }]);
    const ep = await hooks.create(receiver.url('/slow'), ['slow.*']);
    const published = await hooks.publish('slow.event');
    const done = await hooks.waitDelivery(ep.id, published.id, 'succeeded');
    expect(done.attempts).toHaveLength(2);
    expect(done.attempts[0]).toMatchObject({ statusCode: null, error: 'timeout' });
    expect(done.attempts[0].durationMs).toBeGreaterThanOrEqual(1900);
    expect(done.attempts[1]).toMatchObject({ statusCode: 200, error: null });
  });

  it('keeps a stuck endpoint from holding up a healthy one, and takes it back once it answers quickly', async () => {
    let quick = false;
    // Slow but within the 2 s timeout: no attempt fails, so nothing is disabled or retried.
    receiver.on('/stuck', () => (quick ? { status: 200 } : { status: 200, delayMs: 1500 }));
    const stuck = await hooks.create(receiver.url('/stuck'), ['iso.*']);
    await hooks.create(receiver.url('/steady'), ['iso.*']);
    const events = Array.from({ length: 400 }, (_, i) => ({
      type: 'iso.event',
      actor: { type: 'service', id: 'isolation' },
      data: { i },
    }));
    const res = await ll.request('POST', '/v1/events/batch', {
      key: acme.apiKey,
      body: { events },
    });
    expect(res.status).toBe(202);
    // Every healthy delivery arrives without waiting for the stuck endpoint's 400 attempts.
    await receiver.waitForCount(400, '/steady', 15000);
    expect(receiver.received('/stuck').length).toBeLessThan(400);
    const slowUntil = async () =>
      (
        await ll.sql<{ slow: boolean | null }>(
          `SELECT slow_until > now() AS slow FROM webhook_endpoints WHERE id = $1`,
          [stuck.id],
        )
      )[0].slow;
    expect(await slowUntil()).toBe(true);
    // Once it answers quickly, it gets everything it is owed.
    quick = true;
    await waitFor(
      'the stuck endpoint to be caught up',
      async () =>
        (
          await ll.sql<{ n: number }>(
            `SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'pending'`,
            [stuck.id],
          )
        )[0].n === 0,
      30000,
    );
    const statuses = await ll.sql<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 GROUP BY status`,
      [stuck.id],
    );
    expect(statuses).toEqual([{ status: 'succeeded', n: 400 }]);
  });

  it('records any answer body, even one with NUL bytes or invalid UTF-8', async () => {
    receiver.on('/odd-body', [
      { status: 500, body: 'bad\u0000news' },
      { status: 200, body: '\u0000' },
    ]);
    receiver.on('/binary-body', {
      status: 200,
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.from([0xff, 0xfe, 0x00, 0x41]).toString('latin1'),
    });
    const odd = await hooks.create(receiver.url('/odd-body'), ['oddbody.*']);
    const binary = await hooks.create(receiver.url('/binary-body'), ['oddbody.*']);
    const published = await hooks.publish('oddbody.event');
    const done = await hooks.waitDelivery(odd.id, published.id, 'succeeded');
    expect(done.attempts.map((a) => a.statusCode)).toEqual([500, 200]);
    for (const a of done.attempts) expect(a.responseBody).toEqual(expect.any(String));
    await hooks.waitDelivery(binary.id, published.id, 'succeeded');
    expect(receiver.received('/odd-body')).toHaveLength(2);
    expect(receiver.received('/binary-body')).toHaveLength(1);
  });

  it('pages through the delivery log with limit and cursor', async () => {
    const ep = await hooks.create(receiver.url('/paged'), ['paged.*']);
    const published: string[] = [];
    for (let i = 0; i < 5; i++) published.push((await hooks.publish('paged.event')).id);
    for (const id of published) await hooks.waitDelivery(ep.id, id, 'succeeded');
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 5; page++) {
      const res = await ll.request(
        'GET',
        `/v1/webhooks/endpoints/${ep.id}/deliveries?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { key: acme.apiKey },
      );
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data.map((d: Delivery) => d.eventId));
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    expect(cursor).toBeNull();
    expect([...seen].sort()).toEqual([...published].sort());
    const bad = await ll.request(
      'GET',
      `/v1/webhooks/endpoints/${ep.id}/deliveries?cursor=not-a-cursor`,
      { key: acme.apiKey },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('validation_failed');
    const tooMany = await ll.request(
      'GET',
      `/v1/webhooks/endpoints/${ep.id}/deliveries?limit=501`,
      { key: acme.apiKey },
    );
    expect(tooMany.status).toBe(400);
  });

  it('rotates the secret: during the overlap both the old and the new secret verify', async () => {
    const ep = await hooks.create(receiver.url('/rotate'), ['rotate.*']);
    const first = await hooks.publish('rotate.event');
    const [before] = await receiver.waitForCount(1, '/rotate');
    expect(verified(before, ep.secret).data.id).toBe(first.id);

    const rotated = await ll.request('POST', `/v1/webhooks/endpoints/${ep.id}/rotate-secret`, {
      key: acme.apiKey,
    });
    expect(rotated.status).toBe(200);
    expect(Object.keys(rotated.body)).toEqual(['secret']);
    const fresh = rotated.body.secret as string;
    hooks.secrets.push(fresh);
    expectSecretFormat(fresh);
    expect(fresh).not.toBe(ep.secret);
    const view = await hooks.get(ep.id);
    expect(view.text).not.toContain(fresh.replace(/^whsec_/, ''));
    expect(view.text).not.toContain(ep.secret.replace(/^whsec_/, ''));

    const second = await hooks.publish('rotate.event');
    const reqs = await receiver.waitForCount(2, '/rotate');
    const after = forEvent(reqs, second.id)[0];
    const sigs = signatures(after);
    expect(sigs).toHaveLength(2);
    for (const s of sigs) expect(s).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}$/);
    expect(verified(after, fresh).data.id).toBe(second.id);
    expect(verified(after, ep.secret).data.id).toBe(second.id);
    // Each signature on its own: one is the new secret's, the other the old one's.
    const alone = (sig: string) => ({
      ...after,
      headers: { ...after.headers, 'webhook-signature': sig },
    });
    const verifiesWith = (secret: string) =>
      sigs.filter((sig) => {
        try {
          verified(alone(sig), secret);
          return true;
        } catch {
          return false;
        }
      });
    expect(verifiesWith(fresh)).toHaveLength(1);
    expect(verifiesWith(ep.secret)).toHaveLength(1);
    expect(verifiesWith(fresh)[0]).not.toBe(verifiesWith(ep.secret)[0]);
  });

  describe('tenant isolation and scopes', () => {
    let ep: Endpoint;
    let delivery: Delivery;

    beforeAll(async () => {
      ep = await hooks.create(receiver.url('/iso'), ['iso.*'], { description: 'mine' });
      const published = await hooks.publish('iso.event');
      delivery = await hooks.waitDelivery(ep.id, published.id, 'succeeded');
    });

    const routes = (): [string, string, unknown?][] => [
      ['GET', `/v1/webhooks/endpoints/${ep.id}`],
      ['PATCH', `/v1/webhooks/endpoints/${ep.id}`, { description: 'theirs' }],
      ['DELETE', `/v1/webhooks/endpoints/${ep.id}`],
      ['POST', `/v1/webhooks/endpoints/${ep.id}/rotate-secret`],
      ['POST', `/v1/webhooks/endpoints/${ep.id}/enable`],
      ['POST', `/v1/webhooks/endpoints/${ep.id}/recover`, { since: '2020-01-01T00:00:00Z' }],
      ['GET', `/v1/webhooks/endpoints/${ep.id}/deliveries`],
      ['GET', `/v1/webhooks/endpoints/${ep.id}/deliveries?status=succeeded`],
      ['POST', `/v1/webhooks/deliveries/${delivery.id}/retry`],
    ];

    it("answers 404 on every route for another tenant's endpoint or delivery", async () => {
      const before = (await hooks.get(ep.id)).body;
      for (const [method, path, body] of routes()) {
        const res = await ll.request(method, path, { key: globex.apiKey, body });
        expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
      }
      const list = await ll.request('GET', '/v1/webhooks/endpoints', { key: globex.apiKey });
      expect(list.body.data.map((e: Endpoint) => e.id)).not.toContain(ep.id);
      // Nothing changed for the owner: same view, same secret, no extra delivery.
      expect((await hooks.get(ep.id)).body).toEqual(before);
      const published = await hooks.publish('iso.event');
      await hooks.waitDelivery(ep.id, published.id, 'succeeded');
      const reqs = receiver.received('/iso');
      expect(reqs).toHaveLength(2);
      for (const r of reqs) verified(r, ep.secret);
      expect(
        await ll.sql(
          'SELECT count(*)::int AS n FROM events WHERE tenant_id = $1 AND type LIKE $2',
          [globex.tenantId, 'webhook.%'],
        ),
      ).toEqual([{ n: 0 }]);
    });

    it('answers 403 insufficient_scope without webhooks:manage, and 401 without a key', async () => {
      const created = await ll.request('POST', '/v1/api-keys', {
        key: acme.apiKey,
        body: { name: 'publisher', scopes: ['events:write', 'events:read'] },
      });
      expect(created.status).toBe(201);
      const weak = created.body.key as string;
      const all: [string, string, unknown?][] = [
        ...routes(),
        ['GET', '/v1/webhooks/endpoints'],
        ['POST', '/v1/webhooks/endpoints', { url: receiver.url('/x'), eventTypes: ['*'] }],
      ];
      for (const [method, path, body] of all) {
        const res = await ll.request(method, path, { key: weak, body });
        expect({ method, path, status: res.status, code: res.body?.code }).toEqual({
          method,
          path,
          status: 403,
          code: 'insufficient_scope',
        });
        const anonymous = await ll.request(method, path, { body });
        expect({ method, path, status: anonymous.status }).toEqual({ method, path, status: 401 });
      }
      expect((await hooks.get(ep.id)).body.description).toBe('mine');
    });
  });

  it('keeps every plaintext secret out of the database and the logs', async () => {
    const rows = await ll.sql('SELECT secret_sealed, secret_key_id FROM webhook_endpoints');
    expect(rows.length).toBeGreaterThan(5);
    for (const r of rows) expect(r.secret_sealed).not.toMatch(/^whsec_/);
    const probe = await hooks.create(receiver.url('/secret-probe'), ['probe.*']);
    await hooks.rotate(probe.id);
    await hooks.publish('probe.event');
    await receiver.waitForCount(1, '/secret-probe');
    // Every secret this suite was shown, current or rotated away.
    expect(hooks.secrets.length).toBeGreaterThan(15);
    await expectSecretsNowhere(ll, hooks.secrets);
  });
});

describe('webhooks: auto-disable, enable, recover, audit trail and rekey', () => {
  const masterKey = randomBytes(32).toString('base64');
  let ll: Ledgerline;
  let receiver: WebhookReceiver;
  let tenant: Tenant;
  let hooks: WebhooksClient;
  let watcher: Endpoint;

  const create = (path: string, types: string[]) => hooks.create(receiver.url(path), types);
  const status = async (id: string) => (await hooks.get(id)).body;
  const post = (path: string, body?: unknown) =>
    ll.request('POST', path, { key: tenant.apiKey, body });
  const watched = (type: string, endpointId: string) =>
    receiver
      .received('/watch')
      .filter(
        (r) => payloadOf(r).type === type && payloadOf(r).data.data.endpointId === endpointId,
      );

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    ll = await Ledgerline.start({
      env: {
        ...LOCAL_DELIVERY,
        WEBHOOK_DISABLE_AFTER_FAILURES: '3',
        WEBHOOK_SECRET_OVERLAP_SECONDS: '0',
        LEDGERLINE_MASTER_KEY: masterKey,
      },
    });
    tenant = await ll.createTenant('lifecycle');
    hooks = new WebhooksClient(ll, tenant.apiKey);
    watcher = await create('/watch', ['webhook.*']);
  });
  afterAll(async () => {
    await ll?.stop();
    await receiver?.close();
  });

  it('disables an endpoint after consecutive failures, tells the other endpoints, and enable sends what waited', async () => {
    receiver.on('/bad', { status: 500 });
    const bad = await create('/bad', ['invoice.*']);
    const published = await hooks.publish('invoice.paid');

    const disabled = await waitFor('endpoint to be disabled', async () => {
      const view = await status(bad.id);
      return view.status === 'disabled' && view;
    });
    expect(disabled.disabledReason).toEqual(expect.any(String));
    expect(disabled.disabledReason.length).toBeGreaterThan(0);
    // WEBHOOK_DISABLE_AFTER_FAILURES=3: the third failed attempt in a row disables it.
    const tries = receiver.received('/bad');
    expect(tries.length).toBeGreaterThanOrEqual(3);
    expect(new Set(tries.map((r) => r.headers['webhook-id'])).size).toBe(1);

    // The other endpoint, subscribed to webhook.*, is told (signed like any delivery).
    const [notice] = await waitFor('webhook.endpoint.disabled to be delivered', async () => {
      const got = watched('webhook.endpoint.disabled', bad.id);
      return got.length > 0 && got;
    });
    const payload = verified(notice, watcher.secret);
    expect(payload.type).toBe('webhook.endpoint.disabled');
    expect(payload.data.type).toBe('webhook.endpoint.disabled');
    expect(payload.data.data.endpointId).toBe(bad.id);

    // What was still owed waits, and counts as pending on the event.
    const waiting = await hooks.waitDelivery(bad.id, published.id, 'waiting');
    expect(waiting.attempts).toHaveLength(3);
    expect(waiting.nextAttemptAt).toBeNull();
    expect(await hooks.deliveryCounts(published.id)).toEqual({
      pending: 1,
      succeeded: 0,
      failed: 0,
    });
    // A manual retry of a delivery of a disabled endpoint waits too.
    const retry = await post(`/v1/webhooks/deliveries/${waiting.id}/retry`);
    expect(retry.status).toBe(202);
    expect(retry.body.status).toBe('waiting');
    expect((await hooks.deliveries(bad.id, 'waiting')).map((d) => d.id)).toContain(waiting.id);

    receiver.on('/bad', { status: 200 });
    const enabled = await post(`/v1/webhooks/endpoints/${bad.id}/enable`);
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ id: bad.id, status: 'enabled', disabledReason: null });
    const sent = await hooks.waitDelivery(bad.id, published.id, 'succeeded');
    expect(sent.id).toBe(waiting.id);
    const all = receiver.received('/bad');
    expect(all.length).toBeGreaterThanOrEqual(4);
    expect(new Set(all.map((r) => r.headers['webhook-id']))).toEqual(new Set([waiting.id]));
    expect(verified(all[all.length - 1], bad.secret).data.id).toBe(published.id);
    expect((await status(bad.id)).status).toBe('enabled');
    await waitFor(
      'webhook.endpoint.enabled to be delivered',
      async () => watched('webhook.endpoint.enabled', bad.id).length > 0,
    );
  });

  it('disables an endpoint at once when it answers 410 Gone', async () => {
    receiver.on('/gone', { status: 410 });
    const gone = await create('/gone', ['gone.*']);
    const published = await hooks.publish('gone.event');
    const view = await waitFor('endpoint to be disabled', async () => {
      const v = await status(gone.id);
      return v.status === 'disabled' && v;
    });
    expect(view.disabledReason).toEqual(expect.any(String));
    expect(receiver.received('/gone')).toHaveLength(1);
    const waiting = await hooks.waitDelivery(gone.id, published.id, 'waiting');
    expect(waiting.attempts).toEqual([expect.objectContaining({ statusCode: 410 })]);
  });

  it('events matching a disabled endpoint get waiting deliveries; enable sends them all', async () => {
    const old = await hooks.publish('order.created');
    await new Promise((r) => setTimeout(r, 5));
    const since = new Date(Date.parse(old.receivedAt) + 1).toISOString();
    receiver.on('/rec', { status: 500 });
    const rec = await create('/rec', ['order.*']);
    // A healthy endpoint with the same subscription shows when fan-out is done.
    const witness = await create('/rec-witness', ['order.*']);
    const first = await hooks.publish('order.created');
    await waitFor(
      'endpoint to be disabled',
      async () => (await status(rec.id)).status === 'disabled',
    );
    await hooks.waitDelivery(rec.id, first.id, 'waiting');
    const triedBefore = receiver.received('/rec').length;
    expect(triedBefore).toBeGreaterThanOrEqual(3);

    // Published while it is disabled: owed, so created waiting (SPEC section 5), never sent.
    const second = await hooks.publish('order.paid');
    const third = await hooks.publish('order.shipped');
    const unrelated = await hooks.publish('invoice.voided');
    for (const e of [second, third]) await hooks.waitDelivery(witness.id, e.id, 'succeeded');
    const owned = async () =>
      (
        await ll.sql<{ event_id: string; status: string; attempt_count: number }>(
          'SELECT event_id, status, attempt_count FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY event_id',
          [rec.id],
        )
      ).map((r) => [r.event_id, r.status]);
    expect(await owned()).toEqual(
      [first.id, second.id, third.id].sort().map((id) => [id, 'waiting']),
    );
    for (const e of [second, third]) {
      const waiting = await hooks.waitDelivery(rec.id, e.id, 'waiting');
      expect(waiting.attempts).toEqual([]);
      expect(waiting.nextAttemptAt).toBeNull();
      expect(await hooks.deliveryCounts(e.id)).toEqual({ pending: 1, succeeded: 1, failed: 0 });
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.received('/rec')).toHaveLength(triedBefore);

    // Recover does not re-enable and has nothing to create: it re-sends what waits, later.
    receiver.on('/rec', { status: 200 });
    const res = await post(`/v1/webhooks/endpoints/${rec.id}/recover`, { since });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ endpointId: rec.id, resent: 3, created: 0 });
    expect((await status(rec.id)).status).toBe('disabled');
    expect(await hooks.deliveries(rec.id, 'waiting')).toHaveLength(3);
    expect(receiver.received('/rec')).toHaveLength(triedBefore);

    // Enable sends everything that waited, each once, signed.
    expect((await post(`/v1/webhooks/endpoints/${rec.id}/enable`)).status).toBe(200);
    for (const e of [first, second, third]) await hooks.waitDelivery(rec.id, e.id, 'succeeded');
    const got = receiver.received('/rec').slice(triedBefore);
    for (const r of got) verified(r, rec.secret);
    expect(got.map((r) => payloadOf(r).data.id).sort()).toEqual(
      [first.id, second.id, third.id].sort(),
    );
    expect(forEvent(receiver.received('/rec'), old.id)).toHaveLength(0);
    expect(forEvent(receiver.received('/rec'), unrelated.id)).toHaveLength(0);
    expect(await hooks.deliveries(rec.id, 'waiting')).toHaveLength(0);

    // And once enabled, recover sends at once (nothing failed now: it re-creates nothing).
    const again = await post(`/v1/webhooks/endpoints/${rec.id}/recover`, { since });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ resent: 0, created: 0 });
  });

  it('a tenant whose only endpoint is disabled keeps its events owed: they wait, then are sent', async () => {
    const lone = await ll.createTenant('lone');
    const loneHooks = new WebhooksClient(ll, lone.apiKey);
    receiver.on('/lone', { status: 410 });
    const ep = await loneHooks.create(receiver.url('/lone'), ['lone.*']);
    const gone = await loneHooks.publish('lone.first');
    await waitFor(
      'the only endpoint to be disabled',
      async () => (await loneHooks.get(ep.id)).body.status === 'disabled',
    );
    await loneHooks.waitDelivery(ep.id, gone.id, 'waiting');
    // Every endpoint of the tenant is disabled: fan-out must still create the deliveries.
    const owed = [await loneHooks.publish('lone.second'), await loneHooks.publish('lone.third')];
    for (const e of owed) await loneHooks.waitDelivery(ep.id, e.id, 'waiting');
    expect(receiver.received('/lone')).toHaveLength(1);

    receiver.on('/lone', { status: 204 });
    const enabled = await ll.request('POST', `/v1/webhooks/endpoints/${ep.id}/enable`, {
      key: lone.apiKey,
    });
    expect(enabled.status).toBe(200);
    for (const e of [gone, ...owed]) await loneHooks.waitDelivery(ep.id, e.id, 'succeeded');
    const ids = receiver
      .received('/lone')
      .slice(1)
      .map((r) => verified(r, ep.secret).data.id);
    expect(ids.sort()).toEqual([gone.id, ...owed.map((e) => e.id)].sort());
  });

  it("binds each sealed secret to its endpoint: copied to another tenant's endpoint it never signs", async () => {
    const other = await ll.createTenant('other');
    const victim = await new WebhooksClient(ll, other.apiKey).create(receiver.url('/victim'), [
      'moved.*',
    ]);
    const thief = await create('/thief', ['moved.*']);
    const [own] = await ll.sql<{ secret_sealed: string; secret_key_id: string }>(
      `SELECT secret_sealed, secret_key_id FROM webhook_endpoints WHERE id = $1`,
      [thief.id],
    );
    // A database writer copies tenant B's sealed secret (and its key id) onto their endpoint.
    await ll.sql(
      `UPDATE webhook_endpoints t SET secret_sealed = v.secret_sealed, secret_key_id = v.secret_key_id
       FROM webhook_endpoints v WHERE t.id = $1 AND v.id = $2`,
      [thief.id, victim.id],
    );
    const published = await hooks.publish('moved.event');
    const tried = await hooks.waitDelivery(thief.id, published.id, 'pending', (d) =>
      d.attempts.some((a) => a.error === 'secret_unreadable'),
    );
    expect(tried.attempts[0]).toMatchObject({ statusCode: null, error: 'secret_unreadable' });
    expect(receiver.received('/thief')).toHaveLength(0);
    // The victim's own endpoint still signs with its secret; then the thief's row is put back
    // (a row that does not open would stop the rekey test below, as it should).
    await ll.sql(
      `UPDATE webhook_endpoints SET secret_sealed = $2, secret_key_id = $3 WHERE id = $1`,
      [thief.id, own.secret_sealed, own.secret_key_id],
    );
    const removed = await ll.request('DELETE', `/v1/webhooks/endpoints/${thief.id}`, {
      key: tenant.apiKey,
    });
    expect(removed.status).toBe(204);
  });

  it('opens a secret sealed before owners were bound, and rekey binds it to its endpoint', async () => {
    const ep = await create('/legacy', ['legacy.*']);
    const plain = ep.secret;
    // What the previous release stored: sealed under the same key, without an owner.
    const legacy = new SecretBox({ current: Buffer.from(masterKey, 'base64') }).seal(plain);
    await ll.sql(`UPDATE webhook_endpoints SET secret_sealed = $2 WHERE id = $1`, [ep.id, legacy]);
    const before = await hooks.publish('legacy.one');
    await hooks.waitDelivery(ep.id, before.id, 'succeeded');
    verified(forEvent(receiver.received('/legacy'), before.id)[0], plain);

    const out = await ll.cliWith({ LEDGERLINE_MASTER_KEY: masterKey }, 'secrets', 'rekey');
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ rekeyed: 1 });
    const [row] = await ll.sql<{ secret_sealed: string }>(
      `SELECT secret_sealed FROM webhook_endpoints WHERE id = $1`,
      [ep.id],
    );
    expect(row.secret_sealed.startsWith('v2.')).toBe(true);
    const after = await hooks.publish('legacy.two');
    await hooks.waitDelivery(ep.id, after.id, 'succeeded');
    verified(forEvent(receiver.received('/legacy'), after.id)[0], plain);
  });

  it('signs only with the new secret once the overlap is over (WEBHOOK_SECRET_OVERLAP_SECONDS=0)', async () => {
    const ep = await create('/rot0', ['rot.*']);
    const fresh = await hooks.rotate(ep.id);
    const published = await hooks.publish('rot.event');
    const [req] = await receiver.waitForCount(1, '/rot0');
    expect(signatures(req)).toHaveLength(1);
    expect(verified(req, fresh).data.id).toBe(published.id);
    expect(() => verified(req, ep.secret)).toThrow();
  });

  it('rekeys every secret under a new master key; deliveries still verify with the original secret', async () => {
    const ep = await create('/rekey', ['rekey.*']);
    const publicKey = await ll.request('GET', '/v1/audit/public-key', { key: tenant.apiKey });
    expect(publicKey.status).toBe(200);
    const e1 = await hooks.publish('rekey.one');
    await hooks.waitDelivery(ep.id, e1.id, 'succeeded');
    const [{ id: oldKeyId }] = await ll.sql(
      'SELECT DISTINCT secret_key_id AS id FROM webhook_endpoints',
    );

    const newKey = randomBytes(32).toString('base64');
    const rotating = { LEDGERLINE_MASTER_KEY: newKey, LEDGERLINE_MASTER_KEY_PREVIOUS: masterKey };
    const restart = async (env: Record<string, string>) => {
      for (const p of [...ll.apis, ...ll.workers]) await ll.stopProc(p);
      await ll.startApi(env);
      ll.apis.unshift(ll.apis.pop()!); // baseUrl is the first API
      await ll.startWorker(env);
    };
    await restart(rotating);

    // Old rows are opened with the previous key; new rows are sealed under the new one.
    const e2 = await hooks.publish('rekey.two');
    await hooks.waitDelivery(ep.id, e2.id, 'succeeded');
    const late = await create('/rekey-late', ['rekey.*']);
    const keyIds = async () =>
      (await ll.sql('SELECT DISTINCT secret_key_id AS id FROM webhook_endpoints')).map((r) => r.id);
    expect((await keyIds()).sort()).toHaveLength(2);
    const stale = await ll.sql<{ n: number }>(
      'SELECT count(*)::int AS n FROM webhook_endpoints WHERE secret_key_id = $1',
      [oldKeyId],
    );

    const out = await ll.cliWith(rotating, 'secrets', 'rekey');
    // Every endpoint sealed under the old key, plus the service's own sealed keys.
    const { rekeyed } = JSON.parse(out.trim().split('\n').pop()!) as { rekeyed: number };
    expect(rekeyed).toBeGreaterThanOrEqual(stale[0].n);
    const ids = await keyIds();
    expect(ids).toHaveLength(1);
    expect(ids[0]).not.toBe(oldKeyId);
    const previous = await ll.sql(
      `SELECT DISTINCT previous_secret_key_id AS id FROM webhook_endpoints
       WHERE previous_secret_sealed IS NOT NULL`,
    );
    expect(previous.map((r) => r.id)).toEqual(ids);
    // Running it again has nothing left to do.
    expect(JSON.parse((await ll.cliWith(rotating, 'secrets', 'rekey')).trim())).toEqual({
      rekeyed: 0,
    });

    // The previous key is no longer needed at all.
    await restart({ LEDGERLINE_MASTER_KEY: newKey });
    const e3 = await hooks.publish('rekey.three');
    await hooks.waitDelivery(ep.id, e3.id, 'succeeded');
    await hooks.waitDelivery(late.id, e3.id, 'succeeded');
    for (const e of [e1, e2, e3]) {
      for (const r of forEvent(receiver.received('/rekey'), e.id)) verified(r, ep.secret);
    }
    expect(forEvent(receiver.received('/rekey-late'), e3.id).length).toBeGreaterThan(0);
    for (const r of receiver.received('/rekey-late')) verified(r, late.secret);
    const stillSigned = await ll.request('GET', '/v1/audit/public-key', { key: tenant.apiKey });
    expect(stillSigned.status).toBe(200);
    expect(stillSigned.body.publicKey).toBe(publicKey.body.publicKey);
  });

  it('audits every endpoint change as an event and never stores or logs a plaintext secret', async () => {
    const patched = await ll.request('PATCH', `/v1/webhooks/endpoints/${watcher.id}`, {
      key: tenant.apiKey,
      body: { description: 'watches the watchers' },
    });
    expect(patched.status).toBe(200);
    await hooks.rotate(watcher.id);
    const types = (
      await ll.sql('SELECT DISTINCT type FROM events WHERE tenant_id = $1', [tenant.tenantId])
    ).map((r) => r.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'webhook.endpoint.created',
        'webhook.endpoint.updated',
        'webhook.endpoint.secret_rotated',
        'webhook.endpoint.disabled',
        'webhook.endpoint.enabled',
        'webhook.endpoint.recovered',
      ]),
    );
    // They are audited like any other event.
    await waitFor('audit entries for the endpoint changes', async () => {
      const audited = await ll.sql(
        `SELECT DISTINCT e.type FROM events e JOIN audit_entries a ON a.event_id = e.id
         WHERE e.tenant_id = $1 AND e.type LIKE 'webhook.endpoint.%'`,
        [tenant.tenantId],
      );
      return audited.length >= 6;
    });
    expect(hooks.secrets.length).toBeGreaterThanOrEqual(8);
    await expectSecretsNowhere(ll, hooks.secrets);
  });
});
