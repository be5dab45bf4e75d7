import { Ledgerline, Tenant, event, sleep, waitFor } from '../support/ledgerline';
import { payloadOf, verified, WebhookReceiver } from '../support/webhook-receiver';

const EVENTS = 2000;
const BATCH = 500;
/** The sweeper's grace here (default 20 s): deliveries whose jobs the flush lost come back sooner. */
const SWEEP_GRACE_MS = 2000;
/** Outlasts the grace a few times, so the sweeper re-queues lost deliveries into the outage too. */
const OUTAGE_MS = 4 * SWEEP_GRACE_MS;
/** A loopback receiver, a short timeout, and lost work back within seconds. */
const FAST_RECOVERY = {
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32',
  WEBHOOK_TIMEOUT_MS: '2000',
  WEBHOOK_SWEEP_GRACE_MS: String(SWEEP_GRACE_MS),
  WEBHOOK_SWEEP_EVERY_MS: '500',
  // A killed worker's claimed deliveries come back after 2 s + 3 s, not 2 s + 30 s.
  WEBHOOK_LEASE_MARGIN_MS: '3000',
};

describe('webhook delivery through a receiver outage, a worker crash and a Redis flush', () => {
  let ll: Ledgerline;
  let receiver: WebhookReceiver;
  let tenant: Tenant;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    ll = await Ledgerline.start({
      env: {
        ...FAST_RECOVERY,
        // Enough attempts that no delivery exhausts its schedule during the outage.
        WEBHOOK_RETRY_SCHEDULE: '500ms,1s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s',
        WEBHOOK_DISABLE_AFTER_FAILURES: '1000000',
        WEBHOOK_DISABLE_AFTER_SECONDS: '0',
      },
    });
    tenant = await ll.createTenant('outage');
  });
  afterAll(async () => {
    await ll?.stop();
    await receiver?.close();
  });

  it('delivers every event at least once, only owed message ids, all signed', async () => {
    const created = await ll.request('POST', '/v1/webhooks/endpoints', {
      key: tenant.apiKey,
      body: { url: receiver.url('/bulk'), eventTypes: ['load.*'] },
    });
    expect(created.status).toBe(201);
    const { id: endpointId, secret } = created.body as { id: string; secret: string };
    const publish = async (events: unknown[]) => {
      const res = await ll.request('POST', '/v1/events/batch', {
        key: tenant.apiKey,
        body: { events },
      });
      expect(res.status).toBe(202);
      return res.body.ids as string[];
    };
    const batch = (n: number) =>
      Array.from({ length: BATCH }, (_, i) =>
        event({ type: 'load.item', subject: `item/${n * BATCH + i}` }),
      );

    // Warm-up: the path works before the outage.
    await publish([event({ type: 'load.warmup' })]);
    await receiver.waitForCount(1, '/bulk');

    await receiver.close();
    const outageStarted = Date.now();
    const ids: string[] = [];
    ids.push(...(await publish(batch(0))));
    ids.push(...(await publish(batch(1))));
    // Let the worker fan out and fail some attempts, then crash it mid-work.
    await waitFor(
      'failed attempts during the outage',
      async () =>
        (
          await ll.sql<{ n: number }>(
            'SELECT count(*)::int AS n FROM webhook_attempts WHERE endpoint_id = $1',
            [endpointId],
          )
        )[0].n >= 200,
      20000,
    );
    await ll.stopProc(ll.workers[0], 'SIGKILL');
    ids.push(...(await publish(batch(2))));
    // Redis loses every queued and delayed job (every key under this suite's prefix: other suites'
    // keys in the shared database stay); PostgreSQL still knows what is owed.
    expect(await ll.forgetRedisKeys()).toBeGreaterThan(0);
    ids.push(...(await publish(batch(3))));
    expect(new Set(ids).size).toBe(EVENTS);
    await ll.startWorker();

    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - outageStarted)));
    await receiver.reopen();

    const seen = new Set<string>();
    let scanned = 0;
    await waitFor(
      `all ${EVENTS} events to be received`,
      async () => {
        const reqs = receiver.received('/bulk');
        for (; scanned < reqs.length; scanned++) seen.add(payloadOf(reqs[scanned]).data.id);
        return ids.every((id) => seen.has(id));
      },
      75000,
      250,
    );

    // Every message id the receiver saw is a delivery Ledgerline owed it, for that very event.
    const rows = await ll.sql<{ id: string; event_id: string }>(
      'SELECT id, event_id FROM webhook_deliveries WHERE tenant_id = $1',
      [tenant.tenantId],
    );
    const owed = new Map(rows.map((r) => [r.id, r.event_id]));
    expect(rows.filter((r) => ids.includes(r.event_id))).toHaveLength(EVENTS);
    const reqs = receiver.received('/bulk');
    const strays = reqs.filter((r) => owed.get(r.headers['webhook-id']) !== payloadOf(r).data.id);
    expect(strays).toEqual([]);
    // Every request verifies with the endpoint's secret.
    const unverified = reqs.filter((r) => {
      try {
        verified(r, secret);
        return false;
      } catch {
        return true;
      }
    });
    expect(unverified).toHaveLength(0);

    // And the log agrees: every delivery succeeded; the endpoint was never disabled.
    await waitFor(
      'every delivery to be recorded as succeeded',
      async () =>
        (
          await ll.sql<{ n: number }>(
            `SELECT count(*)::int AS n FROM webhook_deliveries
             WHERE endpoint_id = $1 AND status = 'succeeded'`,
            [endpointId],
          )
        )[0].n ===
        EVENTS + 1,
      30000,
      250,
    );
    const view = await ll.request('GET', `/v1/webhooks/endpoints/${endpointId}`, {
      key: tenant.apiKey,
    });
    expect(view.body.status).toBe('enabled');
    const duplicates = reqs.length - new Set(reqs.map((r) => r.headers['webhook-id'])).size;
    process.stdout.write(
      `webhook fault suite: ${reqs.length} requests for ${EVENTS + 1} deliveries (${duplicates} repeats)\n`,
    );
  });
});

describe('fresh deliveries a worker holds when it stops or dies', () => {
  const HELD_EVENTS = 2000;
  let ll: Ledgerline;
  let receiver: WebhookReceiver;
  let tenant: Tenant;
  /** Claimed by fan-out for a first attempt that has not been made (held in a worker's memory). */
  const heldNow = async () =>
    (
      await ll.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM webhook_deliveries
         WHERE tenant_id = $1 AND status = 'pending' AND attempt_count = 0 AND next_attempt_at > now()`,
        [tenant.tenantId],
      )
    )[0].n;

  beforeAll(async () => {
    // Answers slowly enough that fan-out runs far ahead of the attempts.
    receiver = (await WebhookReceiver.start()).on('/held', { status: 200, delayMs: 150 });
    ll = await Ledgerline.start({ env: FAST_RECOVERY });
    tenant = await ll.createTenant('held');
  });
  afterAll(async () => {
    await ll?.stop();
    await receiver?.close();
  });

  it('gives them back on SIGTERM, gets them back after SIGKILL, and delivers every event', async () => {
    const created = await ll.request('POST', '/v1/webhooks/endpoints', {
      key: tenant.apiKey,
      body: { url: receiver.url('/held'), eventTypes: ['held.*'] },
    });
    expect(created.status).toBe(201);
    const ids: string[] = [];
    for (let b = 0; b < HELD_EVENTS / BATCH; b++) {
      const res = await ll.request('POST', '/v1/events/batch', {
        key: tenant.apiKey,
        body: {
          events: Array.from({ length: BATCH }, (_, i) =>
            event({ type: 'held.item', subject: `item/${b * BATCH + i}` }),
          ),
        },
      });
      expect(res.status).toBe(202);
      ids.push(...(res.body.ids as string[]));
    }
    await receiver.waitForCount(100, '/held');
    expect(await heldNow()).toBeGreaterThan(0);

    // SIGTERM: what was held is due again at once, not after its lease.
    expect(await ll.stopProc(ll.workers[0], 'SIGTERM')).toBe(0);
    expect(await heldNow()).toBe(0);
    const afterStop = receiver.received('/held').length;
    expect(afterStop).toBeLessThan(HELD_EVENTS);

    // SIGKILL mid-work: what the next worker held comes back when its lease runs out.
    const next = await ll.startWorker();
    await receiver.waitForCount(afterStop + 100, '/held');
    await ll.stopProc(next, 'SIGKILL');
    await ll.startWorker();

    const seen = new Set<string>();
    await waitFor(
      `all ${HELD_EVENTS} events to be received`,
      async () => {
        for (const r of receiver.received('/held')) seen.add(payloadOf(r).data.id);
        return ids.every((id) => seen.has(id));
      },
      60000,
      250,
    );
    await waitFor(
      'every delivery recorded as succeeded',
      async () =>
        (
          await ll.sql<{ n: number }>(
            `SELECT count(*)::int AS n FROM webhook_deliveries WHERE tenant_id = $1 AND status = 'succeeded'`,
            [tenant.tenantId],
          )
        )[0].n === HELD_EVENTS,
      30000,
      250,
    );
  });
});
