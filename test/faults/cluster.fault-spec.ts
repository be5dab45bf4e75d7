import { Cluster } from 'ioredis';
import {
  Ledgerline,
  Tenant,
  event,
  redisClusterNodes,
  sleep,
  waitFor,
} from '../support/ledgerline';
import { payloadOf, WebhookReceiver } from '../support/webhook-receiver';

const BATCHES = 10;
const BATCH = 100;
const EVENTS = BATCHES * BATCH;
/** After this many batches every master is flushed, while the rest are still being published. */
const FLUSH_AFTER = 4;

/**
 * The suite flushes every master of the test cluster: only cluster suites use that cluster, and
 * they run one at a time.
 */
describe('a Redis Cluster that loses every key mid-run', () => {
  let ll: Ledgerline;
  let receiver: WebhookReceiver;
  let tenant: Tenant;
  let redis: Cluster;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    ll = await Ledgerline.start({
      apis: 1,
      workers: 2,
      env: {
        REDIS_CLUSTER_NODES: redisClusterNodes(),
        WEBHOOK_ALLOW_HTTP: 'true',
        WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32',
        // Deliveries whose jobs the flush lost are re-queued 2 s past due, not 20 s (the default).
        WEBHOOK_SWEEP_GRACE_MS: '2000',
        WEBHOOK_SWEEP_EVERY_MS: '500',
      },
    });
    tenant = await ll.createTenant('flushed');
    redis = ll.redis() as Cluster;
    await waitFor('cluster client', async () => redis.status === 'ready');
  });
  afterAll(async () => {
    redis?.disconnect();
    await ll?.stop();
    await receiver?.close();
  });

  it('audits and delivers every accepted event exactly once', async () => {
    const created = await ll.request('POST', '/v1/webhooks/endpoints', {
      key: tenant.apiKey,
      body: { url: receiver.url('/flush'), eventTypes: ['flush.*'] },
    });
    expect(created.status).toBe(201);
    const ids: string[] = [];
    let flushed = 0;
    let owedAtFlush = 0;
    for (let b = 0; b < BATCHES; b++) {
      const res = await ll.request('POST', '/v1/events/batch', {
        key: tenant.apiKey,
        body: {
          events: Array.from({ length: BATCH }, (_, i) =>
            event({ type: 'flush.item', subject: `item/${b * BATCH + i}` }),
          ),
        },
      });
      expect(res.status).toBe(202);
      ids.push(...(res.body.ids as string[]));
      if (b === FLUSH_AFTER - 1) {
        // Work is queued and in flight: every master loses every key at once.
        const masters = redis.nodes('master');
        expect(masters).toHaveLength(3);
        const sizes = await Promise.all(masters.map((m) => m.dbsize()));
        expect(sizes.reduce((a, b) => a + b, 0)).toBeGreaterThan(0); // there was work to lose
        const answers = await Promise.all(masters.map((m) => m.flushall()));
        expect(answers).toEqual(['OK', 'OK', 'OK']);
        flushed = Date.now();
        owedAtFlush = ids.length - receiver.received('/flush').length;
      }
      if (b >= FLUSH_AFTER) await sleep(150); // the first batches go back to back: a backlog
    }
    expect(new Set(ids).size).toBe(EVENTS);
    expect(flushed).toBeGreaterThan(0);
    expect(owedAtFlush).toBeGreaterThanOrEqual(BATCH); // the flush hit work still owed

    const seen = new Map<string, number>();
    let scanned = 0;
    await waitFor(
      `all ${EVENTS} events delivered`,
      async () => {
        const reqs = receiver.received('/flush');
        for (; scanned < reqs.length; scanned++) {
          const id = payloadOf(reqs[scanned]).data.id as string;
          seen.set(id, (seen.get(id) ?? 0) + 1);
        }
        return ids.every((id) => seen.has(id));
      },
      90000,
      250,
    );
    await waitFor(
      'every event in the audit chain',
      async () =>
        (
          await ll.sql<{ n: number }>(
            'SELECT count(*)::int AS n FROM audit_entries WHERE tenant_id = $1 AND event_id = ANY($2)',
            [tenant.tenantId, ids],
          )
        )[0].n === EVENTS,
      30000,
    );
    await sleep(1000); // a late duplicate would arrive now
    const repeated = [...seen].filter(([, n]) => n > 1);
    expect(repeated).toEqual([]);
    expect(receiver.received('/flush')).toHaveLength(EVENTS);
    const [audited] = await ll.sql<{ n: number; distinct: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS distinct
       FROM audit_entries WHERE tenant_id = $1`,
      [tenant.tenantId],
    );
    expect(audited.n).toBe(audited.distinct);
    expect(audited.n).toBeGreaterThanOrEqual(EVENTS);
    process.stdout.write(
      `cluster fault suite: all ${EVENTS} delivered ${Math.round((Date.now() - flushed) / 1000)} s after a flush with ${owedAtFlush} owed\n`,
    );
  });
});
