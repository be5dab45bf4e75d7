import { Ledgerline, Tenant } from './support/ledgerline';
import { verified, WebhookReceiver } from './support/webhook-receiver';
import {
  LOCAL_DELIVERY,
  WebhooksClient,
  expectSecretsNowhere,
  forEvent,
} from './support/webhooks-api';

/** Failed attempts: the retry schedule, manual retry and recover, Retry-After, redirects and timeouts. */
describe('webhooks: retries', () => {
  let ll: Ledgerline;
  let receiver: WebhookReceiver;
  let acme: Tenant;
  let hooks: WebhooksClient;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    ll = await Ledgerline.start({
      env: { ...LOCAL_DELIVERY, WEBHOOK_DISABLE_AFTER_FAILURES: '50' },
    });
    acme = await ll.createTenant('acme');
    hooks = new WebhooksClient(ll, acme.apiKey);
  });
  afterAll(async () => {
    await ll?.stop();
    await receiver?.close();
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

  it('keeps every plaintext secret it was shown out of the database and the logs', async () => {
    expect(hooks.secrets.length).toBeGreaterThanOrEqual(6);
    await expectSecretsNowhere(ll, hooks.secrets);
  });
});
