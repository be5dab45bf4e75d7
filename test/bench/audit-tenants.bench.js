// Audit append from a backlog: one tenant with 100,000 events, then 1,000 tenants with 100 each,
// appended by the worker with fan-out and relay running. The backlogs are written straight into
// the event store (as the ingestor writes them) while the worker is stopped, so both start alike;
// the many-tenant figure is printed beside the same run's single-tenant one.
'use strict';
const { Stack, report, waitFor } = require('./lib');

const TOTAL = Number(process.env.BENCH_AUDIT_BACKLOG || 100000);
const TENANTS = Number(process.env.BENCH_AUDIT_TENANTS || 1000);

/** `perTenant` events for each of `tenants` new tenants, positions 1..perTenant. */
async function backlog(stack, tenants, perTenant) {
  const [{ ids }] = await stack.query(
    `SELECT array_agg(gen_random_uuid()) AS ids FROM generate_series(1, $1::int)`,
    [tenants],
  );
  await stack.query(
    `INSERT INTO tenant_streams (tenant_id, position) SELECT t, $2 FROM unnest($1::uuid[]) t`,
    [ids, perTenant],
  );
  await stack.query(
    `INSERT INTO events (tenant_id, id, position, type, subject, actor_type, actor_id, occurred_at, received_at, data)
     SELECT t, gen_random_uuid(), g, 'invoice.paid', 'invoice/inv_' || g, 'service', 'billing', now(), now(),
            jsonb_build_object('amount', 1200 + g % 100, 'currency', 'EUR', 'customer', 'c_' || (g % 977), 'note', 'paid by card')
     FROM unnest($1::uuid[]) t, generate_series(1, $2::int) g`,
    [ids, perTenant],
  );
  await stack.query('VACUUM ANALYZE events');
  return ids;
}

async function appended(stack, ids) {
  const [{ n }] = await stack.query(
    `SELECT coalesce(sum(seq), 0)::int AS n FROM audit_chain_heads WHERE tenant_id = ANY($1::uuid[]) AND chain = 'main'`,
    [ids],
  );
  return n;
}

/** Entries/s from the first entry to the last (the worker's boot is not counted). */
async function appendRate(stack, ids, expected) {
  const worker = await stack.startWorker();
  await waitFor('first entry', async () => (await appended(stack, ids)) > 0, 60000, 10);
  const t0 = Date.now();
  const s0 = await appended(stack, ids);
  await waitFor(
    'backlog appended',
    async () => (await appended(stack, ids)) >= expected,
    600000,
    20,
  );
  const rate = (expected - s0) / ((Date.now() - t0) / 1000);
  await stack.stopWorker(worker);
  return rate;
}

async function main() {
  const stack = await new Stack().start({ api: false, worker: false });
  try {
    const one = await backlog(stack, 1, TOTAL);
    const single = await appendRate(stack, one, TOTAL);
    report('audit.append_one_tenant', single, 'entries/s', null, {
      backlog: TOTAL,
      note: 'baseline of the next line',
    });
    const many = await backlog(stack, TENANTS, Math.floor(TOTAL / TENANTS));
    const rate = await appendRate(stack, many, Math.floor(TOTAL / TENANTS) * TENANTS);
    report('audit.append_many_tenants', rate, 'entries/s', single, {
      tenants: TENANTS,
      perTenant: Math.floor(TOTAL / TENANTS),
      baselineIs: 'the same backlog in one tenant, this run',
      target: 'ratio >= 0.8',
    });
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
