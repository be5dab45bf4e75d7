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

  /** Where deliveries of these events stand: counts by status, tried or not, and when due. */
  const whereAre = (eventIds: string[]) =>
    ll.sql(
      `SELECT status, attempt_count AS attempts, (next_attempt_at > now()) AS later,
              (SELECT slow_until > now() FROM webhook_endpoints e WHERE e.id = d.endpoint_id) AS slow,
              count(*)::int AS n
       FROM unnest($2::uuid[]) AS m(event_id)
       LEFT JOIN webhook_deliveries d ON d.tenant_id = $1 AND d.event_id = m.event_id
       GROUP BY 1, 2, 3, 4`,
      [tenant.tenantId, eventIds],
    );

  beforeAll(async () => {
    // Answers slowly enough that fan-out runs far ahead of the attempts.
    receiver = (await WebhookReceiver.start()).on('/held', { status: 200, delayMs: 150 });
    // A failed attempt's retry is an hour away: no retry job teaches a worker an endpoint's mark.
    ll = await Ledgerline.start({ env: { ...FAST_RECOVERY, WEBHOOK_RETRY_SCHEDULE: '1h' } });
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
        const missing = ids.filter((id) => !seen.has(id));
        if (missing.length === 0) return true;
        // Thrown, so a timeout says where the missing ones are.
        throw new Error(`${missing.length} missing: ${JSON.stringify(await whereAre(missing))}`);
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

  it("takes back an endpoint a killed worker marked slow on the next worker's first quick answer", async () => {
    let hanging = true;
    receiver.on('/marked', () => (hanging ? { hang: true } : { status: 200 }));
    const created = await ll.request('POST', '/v1/webhooks/endpoints', {
      key: tenant.apiKey,
      body: { url: receiver.url('/marked'), eventTypes: ['marked.*'] },
    });
    const endpointId = created.body.id as string;
    const slow = async () =>
      (
        await ll.sql<{ slow: boolean | null }>(
          `SELECT slow_until > now() AS slow FROM webhook_endpoints WHERE id = $1`,
          [endpointId],
        )
      )[0].slow;
    const publish = async (n: number) =>
      (
        await ll.request('POST', '/v1/events/batch', {
          key: tenant.apiKey,
          body: { events: Array.from({ length: n }, () => event({ type: 'marked.item' })) },
        })
      ).body.ids as string[];
    // One attempt that hangs past 2 s marks the endpoint slow in PostgreSQL.
    await publish(1);
    await waitFor('the endpoint marked slow', slow, 10000);
    // The next events wait for the slow lane, whose 8 slots for the endpoint hang too.
    const owed = await publish(20);
    await receiver.waitForCount(9, '/marked');
    for (const w of ll.workers) await ll.stopProc(w, 'SIGKILL');
    hanging = false;
    // The new worker never saw the mark happen: its slow lane finds it in PostgreSQL.
    await ll.startWorker();
    await waitFor('the endpoint back in the fast lane', async () => (await slow()) === null, 10000);
    const got = await waitFor(
      'every owed event received',
      async () => {
        const ids = new Set(receiver.received('/marked').map((r) => payloadOf(r).data.id));
        return owed.every((id) => ids.has(id)) && ids;
      },
      20000,
    );
    expect(got.size).toBeGreaterThanOrEqual(owed.length);
  });
});
