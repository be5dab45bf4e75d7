import { randomUUID } from 'node:crypto';
import { Ledgerline, Tenant, event, waitFor } from './support/ledgerline';
import { payloadOf, verified, WebhookReceiver } from './support/webhook-receiver';
import {
  Delivery,
  LOCAL_DELIVERY,
  WebhooksClient,
  expectSecretsNowhere,
  forEvent,
  signatures,
} from './support/webhooks-api';

/** What is sent to whom: the Standard Webhooks request, pattern matching, pacing, a stuck endpoint not holding up others, odd answers, and the delivery log. */
describe('webhooks: delivery', () => {
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

  it('keeps a stuck endpoint from holding up a healthy one, and takes it back once it answers quickly', async () => {
    let quick = false;
    // Slow (it holds all its slots past 500 ms, so it is marked slow) but well within the 2 s
    // timeout, even on a loaded machine: no attempt fails, so nothing is disabled or retried.
    receiver.on('/stuck', () => (quick ? { status: 200 } : { status: 200, delayMs: 1000 }));
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

  it('keeps every plaintext secret it was shown out of the database and the logs', async () => {
    expect(hooks.secrets.length).toBeGreaterThanOrEqual(10);
    await expectSecretsNowhere(ll, hooks.secrets);
  });
});
