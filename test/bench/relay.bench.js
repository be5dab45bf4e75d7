// Relay cost as tenants grow: how long a relay pass takes with 1k, 10k and 100k rows in
// tenant_streams (most idle), a pass over the tenants woken (named) beside the full pass over
// every stream, and publish → audited latency with 10,000 tenants of which 100 publish.
// Baseline, measured in the same run: the query every pass ran before passes were driven by the
// tenants woken (every stream, for each consumer), timed from here on the same database.
'use strict';
const { join } = require('node:path');
const { Agent, request } = require('undici');
const { Stack, ROOT, report, sleep, waitFor, freePort, percentile, sampleEvent } = require('./lib');

const SIZES = (process.env.BENCH_RELAY_TENANTS || '1000,10000,100000').split(',').map(Number);
const ACTIVE = Number(process.env.BENCH_RELAY_ACTIVE || 100);
const LATENCY_TENANTS = 10000;
/** Events/s spread over the active tenants (each active tenant publishes about once a second). */
const RATE = Number(process.env.BENCH_RELAY_RATE || 100);
// Every stream consumer the worker runs: an idle tenant has a cursor at its head for each.
const { STREAM_QUEUES: CONSUMERS } = require(
  join(ROOT, 'dist/apps/worker/libs/platform/src/queue/queue-names.js'),
);
const { EVENTS_CHANNEL, FULL_PASS } = require(
  join(ROOT, 'dist/apps/worker/libs/events/src/event-store.js'),
);

/** Active tenants with keys, made through TenantService in one application context. */
async function createTenants(stack, n) {
  const saved = { ...process.env };
  Object.assign(process.env, stack.env);
  const { withApp } = require(join(ROOT, 'dist/apps/cli/apps/cli/src/app-context.js'));
  const { TenantService } = require(join(ROOT, 'dist/apps/cli/libs/identity/src/index.js'));
  try {
    return await withApp(async (app) => {
      const tenants = [];
      for (let i = 0; i < n; i++) {
        const r = await app.get(TenantService).create(`active-${i}`);
        tenants.push({ tenantId: r.tenantId, apiKey: r.apiKey.key });
      }
      return tenants;
    });
  } finally {
    process.env = saved;
  }
}

/** Idle tenants: a stream with 5 events and every consumer's cursor at its head. */
async function growIdleTo(stack, total) {
  const [{ n }] = await stack.query('SELECT count(*)::int AS n FROM tenant_streams');
  if (n >= total) return;
  await stack.query(
    `WITH t AS (
       INSERT INTO tenant_streams (tenant_id, position)
       SELECT gen_random_uuid(), 5 FROM generate_series(1, $1::int) RETURNING tenant_id
     )
     INSERT INTO stream_cursors (tenant_id, consumer, position)
     SELECT t.tenant_id, c, 5 FROM t, unnest($2::text[]) c`,
    [total - n, CONSUMERS],
  );
  await stack.query('VACUUM ANALYZE tenant_streams');
  await stack.query('VACUUM ANALYZE stream_cursors');
}

/** The old pass's query, for every consumer, timed from here (median of 5). */
async function rawFullPass(stack) {
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t0 = process.hrtime.bigint();
    for (const consumer of CONSUMERS) {
      await stack.query(
        `SELECT s.tenant_id, s.position FROM tenant_streams s
         LEFT JOIN stream_cursors c ON c.tenant_id = s.tenant_id AND c.consumer = $1
         WHERE s.position > coalesce(c.position, 0)`,
        [consumer],
      );
    }
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return times.sort((a, b) => a - b)[2];
}

/** Sum and count of the worker's relay pass histogram, by kind. */
async function passMetrics(stack) {
  const res = await fetch(`http://127.0.0.1:${stack.env.WORKER_PORT}/metrics`, {
    headers: { authorization: `Bearer ${stack.tenant.apiKey}` },
  });
  if (res.status !== 200) throw new Error(`worker metrics answered ${res.status}`);
  const text = await res.text();
  const read = (kind, what) => {
    const m = new RegExp(
      `ledgerline_relay_pass_seconds_${what}\\{kind="${kind}"\\} ([0-9.e+-]+)`,
    ).exec(text);
    return m ? Number(m[1]) : 0;
  };
  return {
    full: { sum: read('full', 'sum'), count: read('full', 'count') },
    named: { sum: read('named', 'sum'), count: read('named', 'count') },
  };
}

const meanMs = (a, b, kind) =>
  b[kind].count > a[kind].count
    ? ((b[kind].sum - a[kind].sum) / (b[kind].count - a[kind].count)) * 1000
    : null;

/** Publishes `perSecond` single events spread over the tenants for `seconds`; returns ids by tenant. */
async function publishSpread(stack, tenants, perSecond, seconds) {
  const agent = new Agent({ connections: 32, keepAliveTimeout: 30000 });
  const ids = [];
  const pending = [];
  const started = Date.now();
  for (let i = 0; i < perSecond * seconds; i++) {
    const due = started + (i * 1000) / perSecond;
    if (due > Date.now()) await sleep(due - Date.now());
    const t = tenants[i % tenants.length];
    pending.push(
      request(`${stack.baseUrl}/v1/events`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${t.apiKey}` },
        body: JSON.stringify(sampleEvent(i)),
      })
        .then((r) => r.body.json())
        .then((b) => ids.push(b.id)),
    );
  }
  await Promise.all(pending);
  await agent.close();
  return ids;
}

async function main() {
  const stack = new Stack({ WORKER_PORT: String(await freePort()) });
  await stack.start({ worker: false });
  try {
    const active = await createTenants(stack, ACTIVE);
    await stack.startWorker();
    await waitFor('worker metrics', () => passMetrics(stack), 120000, 200);
    // Every active tenant's events so far audited: the stack is warm.
    await publishSpread(stack, active, 200, 1);
    await waitFor(
      'warm',
      async () => {
        const [{ n }] = await stack.query(
          `SELECT count(*)::int AS n FROM tenant_streams s
           LEFT JOIN stream_cursors c ON c.tenant_id = s.tenant_id AND c.consumer = 'audit'
           WHERE coalesce(c.position, 0) < s.position`,
        );
        return n === 0;
      },
      120000,
    );

    for (const size of SIZES) {
      await growIdleTo(stack, size);
      const raw = await rawFullPass(stack);
      const before = await passMetrics(stack);
      // RATE events/s over the active tenants for 5 s: named passes; full passes on the timer.
      await publishSpread(stack, active, RATE, 5);
      await sleep(1500);
      // A full pass runs at most 2% of the time: ask for one (as a lost wake-up would) if none ran.
      if ((await passMetrics(stack)).full.count === before.full.count)
        await stack.query(`SELECT pg_notify($1, $2)`, [EVENTS_CHANNEL, FULL_PASS]);
      await waitFor(
        'a full pass',
        async () => (await passMetrics(stack)).full.count > before.full.count,
        60000,
        100,
      );
      const after = await passMetrics(stack);
      report('relay.pass_named', meanMs(before, after, 'named'), 'ms', raw, {
        tenants: size,
        active: ACTIVE,
        passes: after.named.count - before.named.count,
        baselineIs: 'the pass before: every stream, every consumer (queried from the bench)',
      });
      report('relay.pass_full', meanMs(before, after, 'full'), 'ms', raw, {
        tenants: size,
        passes: after.full.count - before.full.count,
        note: 'the safety-net pass over every stream: every second, or at most 2% of the time',
      });

      if (
        size === LATENCY_TENANTS ||
        (size > LATENCY_TENANTS && !SIZES.includes(LATENCY_TENANTS))
      ) {
        const ids = await publishSpread(stack, active, RATE, 10);
        await waitFor(
          'latency events audited',
          async () => {
            const [{ n }] = await stack.query(
              `SELECT count(*)::int AS n FROM audit_entries WHERE event_id = ANY($1::uuid[])`,
              [ids],
            );
            return n === ids.length;
          },
          120000,
          100,
        );
        const lat = (
          await stack.query(
            `SELECT extract(epoch FROM (a.recorded_at - e.received_at)) * 1000 AS ms FROM audit_entries a
             JOIN events e ON e.tenant_id = a.tenant_id AND e.id = a.event_id WHERE a.event_id = ANY($1::uuid[])`,
            [ids],
          )
        )
          .map((r) => Number(r.ms))
          .sort((a, b) => a - b);
        report('relay.audit_latency_p99', percentile(lat, 99), 'ms', null, {
          tenants: size,
          active: ACTIVE,
          rate: `${RATE} events/s over the active tenants`,
          p50: percentile(lat, 50),
          measuredAs: 'recorded_at - received_at',
          target: '< 100',
        });
      }
    }
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
