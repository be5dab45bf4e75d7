import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import { load } from 'js-yaml';
import { Ledgerline, Tenant, event, redisClusterNodes, sleep, waitFor } from './support/ledgerline';
import { payloadOf, WebhookReceiver } from './support/webhook-receiver';

const BATCHES = 8;
const BATCH = 50;
const EVENTS = BATCHES * BATCH;
const RATE_LIMIT = 40;

/** Prometheus text format: every sample as [name, labels, value]. */
function samples(text: string): { name: string; labels: string; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
      if (!m) throw new Error(`not a sample: ${line}`);
      return { name: m[1], labels: m[2] ?? '', value: Number(m[3]) };
    });
}

/** The sum of a metric's samples whose labels contain every `label="value"` given. */
function total(texts: string[], name: string, ...labels: string[]): number {
  return texts
    .flatMap(samples)
    .filter((s) => s.name === name && labels.every((l) => s.labels.includes(l)))
    .reduce((sum, s) => sum + s.value, 0);
}

describe('on a Redis Cluster: two APIs, two workers, one receiver', () => {
  let ll: Ledgerline;
  let receiver: WebhookReceiver;
  let tenant: Tenant;
  const workerPorts: number[] = [];
  const ids: string[] = [];
  let fromA: string;
  let fromB: string;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    receiver.on('/fail', { status: 500, body: 'no' });
    ll = await Ledgerline.start({
      apis: 2,
      workers: 0,
      env: {
        REDIS_CLUSTER_NODES: redisClusterNodes(),
        RATE_LIMIT_PER_KEY: String(RATE_LIMIT),
        WEBHOOK_ALLOW_HTTP: 'true',
        WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32',
        WEBHOOK_RETRY_SCHEDULE: '100ms,100ms,100ms,100ms,100ms,100ms',
        WEBHOOK_DISABLE_AFTER_FAILURES: '2',
        WEBHOOK_DISABLE_AFTER_SECONDS: '0',
      },
    });
    const workers = await Promise.all([0, 1].map(() => ll.startWorker({ WORKER_PORT: '0' })));
    workerPorts.push(...workers.map((w) => w.port!));
    fromA = ll.baseUrl;
    fromB = `http://127.0.0.1:${ll.apis[1].port}`;
    tenant = await ll.createTenant('cluster');
  });
  afterAll(async () => {
    await ll?.stop();
    await receiver?.close();
  });

  it('audits and delivers exactly once every event published through either API', async () => {
    const endpoint = async (path: string, eventTypes: string[]) => {
      const res = await ll.request('POST', '/v1/webhooks/endpoints', {
        key: tenant.apiKey,
        body: { url: receiver.url(path), eventTypes },
      });
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    await endpoint('/ok', ['order.*']);
    await endpoint('/fail', ['doomed.*']);
    for (let b = 0; b < BATCHES; b++) {
      const res = await ll.request('POST', '/v1/events/batch', {
        key: tenant.apiKey,
        base: b % 2 ? fromB : fromA,
        body: {
          events: Array.from({ length: BATCH }, (_, i) =>
            event({ type: 'order.placed', subject: `order/${b * BATCH + i}` }),
          ),
        },
      });
      expect(res.status).toBe(202);
      ids.push(...(res.body.ids as string[]));
    }
    const doomed = await ll.request('POST', '/v1/events/batch', {
      key: tenant.apiKey,
      body: { events: [event({ type: 'doomed.one' }), event({ type: 'doomed.two' })] },
    });
    expect(doomed.status).toBe(202);

    await receiver.waitForCount(EVENTS, '/ok', 60000);
    await waitFor(
      'every event in the audit chain',
      async () =>
        (
          await ll.sql<{ n: number }>(
            'SELECT count(*)::int AS n FROM audit_entries WHERE event_id = ANY($1)',
            [ids],
          )
        )[0].n === EVENTS,
      30000,
    );
    await sleep(500); // a duplicate would arrive now
    const delivered = receiver.received('/ok').map((r) => payloadOf(r).data.id as string);
    expect(delivered).toHaveLength(EVENTS);
    expect(new Set(delivered)).toEqual(new Set(ids));
    const [audited] = await ll.sql<{ n: number; distinct: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS distinct
       FROM audit_entries WHERE tenant_id = $1 AND event_id = ANY($2)`,
      [tenant.tenantId, ids],
    );
    expect(audited).toEqual({ n: EVENTS, distinct: EVENTS });
  });

  it("keeps every key of the suite's queues and limits in the prefix's one slot", async () => {
    const redis = ll.redis() as Cluster;
    try {
      await waitFor('cluster client', async () => redis.status === 'ready');
      const keys = (
        await Promise.all(redis.nodes('master').map((n) => n.keys(`*${ll.prefix}*`)))
      ).flat();
      expect(keys.length).toBeGreaterThan(10);
      const slot = await redis.cluster('KEYSLOT', `{${ll.prefix}}`);
      const slots = new Set(await Promise.all(keys.map((k) => redis.cluster('KEYSLOT', k))));
      expect([...slots]).toEqual([slot]);
      expect(keys.some((k) => k.includes(':audit:'))).toBe(true);
      expect(keys.some((k) => k.includes(':delivery:'))).toBe(true);
    } finally {
      redis.disconnect();
    }
  });

  it('shares one rate limit between the two APIs', async () => {
    const other = await ll.createTenant('limited');
    let sharedSeen = false;
    // Exhaust the key's window on API A, then ask API B at once: with a per-process limit B
    // would answer; shared through the cluster it refuses. A window may roll over in between,
    // so it gets three tries; a per-process limiter can never pass.
    for (let attempt = 0; attempt < 3 && !sharedSeen; attempt++) {
      await sleep(1100);
      const burst = await Promise.all(
        Array.from({ length: RATE_LIMIT + 10 }, () =>
          ll.request('GET', '/v1/webhooks/endpoints', { key: other.apiKey, base: fromA }),
        ),
      );
      expect(burst.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(1);
      const onB = await ll.request('GET', '/v1/webhooks/endpoints', {
        key: other.apiKey,
        base: fromB,
      });
      if (onB.status === 429) {
        expect(Number(onB.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        sharedSeen = true;
      }
    }
    expect(sharedSeen).toBe(true);
  });

  it('reports metrics worth alerting on, and the shipped alerts use only those', async () => {
    await sleep(1100); // the rate-limit test used this key's sibling; keep well under the limit
    const verify = await ll.request('GET', '/v1/audit/verify?chain=main', { key: tenant.apiKey });
    expect(verify.status).toBe(200);
    expect(verify.body.ok).toBe(true);
    await waitFor('the failing endpoint disabled', async () => {
      const rows = await ll.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM webhook_endpoints WHERE status = 'disabled'`,
      );
      return rows[0].n === 1;
    });
    const scrape = async (base: string) => {
      const res = await ll.request('GET', '/metrics', { key: tenant.apiKey, base });
      expect(res.status).toBe(200);
      return res.text;
    };
    const workers = () => Promise.all(workerPorts.map((p) => scrape(`http://127.0.0.1:${p}`)));
    const api = await scrape(fromA);
    const fromWorkers = await workers();

    // Scrape-time figures from PostgreSQL: everything consumed, one endpoint disabled.
    expect(total([api], 'ledgerline_relay_lag_events', 'consumer="audit"')).toBe(0);
    expect(total([api], 'ledgerline_relay_lag_events', 'consumer="fanout"')).toBe(0);
    expect(total([api], 'ledgerline_audit_head_age_seconds')).toBe(0);
    expect(total([api], 'ledgerline_webhook_endpoints_disabled')).toBe(1);
    expect(total([api], 'ledgerline_audit_verify_total', 'outcome="intact"')).toBe(1);
    expect(total([api], 'ledgerline_queue_depth', 'queue="delivery"')).toBeGreaterThanOrEqual(0);
    // In-process figures of the workers: each success once, latency plausible.
    const succeeded = 'status="succeeded"';
    expect(total(fromWorkers, 'ledgerline_webhook_deliveries_total', succeeded)).toBe(EVENTS);
    // The failing endpoint's deliveries move to pending (a retry), then waiting once the
    // second failure disables it (failed only when a schedule runs out first).
    const unsent = ['failed', 'pending', 'waiting'].map((status) =>
      total(fromWorkers, 'ledgerline_webhook_deliveries_total', `status="${status}"`),
    );
    expect(unsent.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2);
    expect(unsent[2]).toBeGreaterThanOrEqual(1);
    expect(
      total(fromWorkers, 'ledgerline_webhook_attempts_total', 'outcome="http_500"'),
    ).toBeGreaterThanOrEqual(2);
    const latencyCount = total(fromWorkers, 'ledgerline_webhook_delivery_latency_seconds_count');
    const latencySum = total(fromWorkers, 'ledgerline_webhook_delivery_latency_seconds_sum');
    expect(latencyCount).toBe(EVENTS);
    expect(latencySum / latencyCount).toBeGreaterThan(0);
    expect(latencySum / latencyCount).toBeLessThan(60);
    expect(
      total(fromWorkers, 'ledgerline_webhook_delivery_latency_seconds_bucket', 'le="+Inf"'),
    ).toBe(EVENTS);

    // Workers stopped, five more events: the lag and the head age say so.
    await Promise.all(ll.workers.map((w) => ll.stopProc(w)));
    const late = await ll.request('POST', '/v1/events/batch', {
      key: tenant.apiKey,
      body: { events: Array.from({ length: 5 }, () => event({ type: 'order.late' })) },
    });
    expect(late.status).toBe(202);
    await sleep(1200);
    const behind = await scrape(fromB);
    expect(total([behind], 'ledgerline_relay_lag_events', 'consumer="audit"')).toBe(5);
    expect(total([behind], 'ledgerline_relay_lag_events', 'consumer="fanout"')).toBe(5);
    const age = total([behind], 'ledgerline_audit_head_age_seconds');
    expect(age).toBeGreaterThanOrEqual(1);
    expect(age).toBeLessThan(30);

    // The shipped alert rules and dashboard query only metrics that exist.
    const known = new Set(
      [api, ...fromWorkers].flatMap(samples).map((s) => s.name.replace(/_(bucket|sum|count)$/, '')),
    );
    const referenced = (text: string) =>
      [...text.matchAll(/\bledgerline_\w+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ''));
    const ops = join(__dirname, '..', 'docs', 'ops');
    const rules = load(readFileSync(join(ops, 'prometheus-alerts.yml'), 'utf8')) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    const alerts = rules.groups.flatMap((g) => g.rules);
    expect(alerts.length).toBeGreaterThanOrEqual(6);
    const unknown = alerts.flatMap((r) => referenced(r.expr).filter((m) => !known.has(m)));
    expect(unknown).toEqual([]);
    const dashboard = JSON.parse(readFileSync(join(ops, 'grafana-dashboard.json'), 'utf8')) as {
      panels: { targets?: { expr: string }[] }[];
    };
    const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
    expect(exprs.length).toBeGreaterThanOrEqual(6);
    expect(exprs.flatMap((e) => referenced(e).filter((m) => !known.has(m)))).toEqual([]);
  });
});
