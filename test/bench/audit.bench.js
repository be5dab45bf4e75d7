// Audit chain: append from a backlog, verify, export memory, publish→audited latency.
// Baselines are raw pg + the same hashing, measured in the same run.
'use strict';
const { createHash } = require('node:crypto');
const jcs = require('canonicalize');
const {
  Stack,
  report,
  waitFor,
  sampleEvent,
  publishBatches,
  publishPaced,
  percentile,
  peakRssMb,
} = require('./lib');

const BACKLOG = Number(process.env.BENCH_AUDIT_BACKLOG || 100000);
const EXPORT_ENTRIES = Number(process.env.BENCH_EXPORT_ENTRIES || 1000000);

const hash = (prev, entry) =>
  createHash('sha256').update(Buffer.from(prev, 'hex')).update(jcs(entry)).digest('hex');

/** The raw baseline: read events in order, hash a chain, insert 1000 rows per statement. */
async function rawAppend(stack, tenantId) {
  await stack.query(
    'CREATE TABLE bench_raw_audit (LIKE audit_entries INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)',
  );
  const started = Date.now();
  let after = 0;
  let seq = 0;
  let prev = '0'.repeat(64);
  for (;;) {
    const rows = await stack.query(
      'SELECT * FROM events WHERE tenant_id = $1 AND position > $2 ORDER BY position LIMIT 1000',
      [tenantId, after],
    );
    if (!rows.length) break;
    after = rows[rows.length - 1].position;
    const entries = rows.map((e) => {
      const entry = {
        seq: ++seq,
        chain: 'main',
        tenantId,
        eventId: e.id,
        type: e.type,
        subject: e.subject,
        actor: { type: e.actor_type, id: e.actor_id },
        actingAsTenantId: null,
        data: e.data,
        occurredAt: e.occurred_at.toISOString(),
        recordedAt: new Date().toISOString(),
      };
      const h = hash(prev, entry);
      const out = { ...entry, prevHash: prev, hash: h };
      prev = h;
      return out;
    });
    await stack.query(
      `INSERT INTO bench_raw_audit (tenant_id, chain, seq, event_id, type, subject, actor, acting_as_tenant_id, data, occurred_at, recorded_at, prev_hash, hash)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::uuid[], $5::text[], $6::text[], $7::jsonb[], $8::uuid[], $9::jsonb[], $10::timestamptz[], $11::timestamptz[], $12::text[], $13::text[])`,
      [
        entries.map((e) => e.tenantId),
        entries.map((e) => e.chain),
        entries.map((e) => e.seq),
        entries.map((e) => e.eventId),
        entries.map((e) => e.type),
        entries.map((e) => e.subject),
        entries.map((e) => JSON.stringify(e.actor)),
        entries.map(() => null),
        entries.map((e) => JSON.stringify(e.data)),
        entries.map((e) => e.occurredAt),
        entries.map((e) => e.recordedAt),
        entries.map((e) => e.prevHash),
        entries.map((e) => e.hash),
      ],
    );
  }
  return { seconds: (Date.now() - started) / 1000, entries: seq };
}

/** Raw verify baseline: page through the raw chain and recompute every hash. */
async function rawVerify(stack) {
  const started = Date.now();
  let after = 0;
  let n = 0;
  for (;;) {
    const rows = await stack.query(
      'SELECT * FROM bench_raw_audit WHERE seq > $1 ORDER BY seq LIMIT 5000',
      [after],
    );
    if (!rows.length) break;
    for (const r of rows) {
      hash(r.prev_hash, {
        seq: Number(r.seq),
        chain: r.chain,
        tenantId: r.tenant_id,
        eventId: r.event_id,
        type: r.type,
        subject: r.subject,
        actor: r.actor,
        actingAsTenantId: r.acting_as_tenant_id,
        data: r.data,
        occurredAt: r.occurred_at.toISOString(),
        recordedAt: r.recorded_at.toISOString(),
      });
      n++;
    }
    after = Number(rows[rows.length - 1].seq);
  }
  return n / ((Date.now() - started) / 1000);
}

async function headSeq(stack, tenantId) {
  const [row] = await stack.query(
    `SELECT seq FROM audit_chain_heads WHERE tenant_id = $1 AND chain = 'main'`,
    [tenantId],
  );
  return row ? Number(row.seq) : 0;
}

async function main() {
  const stack = await new Stack().start({ worker: false });
  const tenantId = stack.tenant.tenantId;
  const auth = { authorization: `Bearer ${stack.tenant.apiKey}` };
  try {
    await publishBatches(stack, BACKLOG, 500, 4, sampleEvent);
    const [{ n: expected }] = await stack.query(
      `SELECT count(*)::int AS n FROM events WHERE tenant_id = $1 AND type <> 'audit.checkpoint'`,
      [tenantId],
    );
    const raw = await rawAppend(stack, tenantId);

    await stack.startWorker();
    await waitFor('first entry', async () => (await headSeq(stack, tenantId)) > 0, 60000, 10);
    const t0 = Date.now();
    const s0 = await headSeq(stack, tenantId);
    await waitFor(
      'backlog appended',
      async () => (await headSeq(stack, tenantId)) >= expected,
      600000,
      20,
    );
    const appendRate = (expected - s0) / ((Date.now() - t0) / 1000);
    report('audit.append', appendRate, 'entries/s', raw.entries / raw.seconds, {
      backlog: expected,
      target: 15000,
    });

    const v0 = Date.now();
    const verify = await (
      await fetch(`${stack.baseUrl}/v1/audit/verify`, { headers: auth })
    ).json();
    const verifyRate = verify.entries / ((Date.now() - v0) / 1000);
    report('audit.verify', verifyRate, 'entries/s', await rawVerify(stack), {
      ok: verify.ok,
      entries: verify.entries,
      target: 50000,
    });

    const latencyIds = await publishPaced(stack, 500, 10, sampleEvent);
    await waitFor('latency events audited', async () => {
      const [{ n }] = await stack.query(
        `SELECT count(*)::int AS n FROM audit_entries WHERE tenant_id = $1 AND event_id = ANY($2::uuid[])`,
        [tenantId, latencyIds],
      );
      return n === latencyIds.length;
    });
    const lat = (
      await stack.query(
        `SELECT extract(epoch FROM (a.recorded_at - e.received_at)) * 1000 AS ms FROM audit_entries a
       JOIN events e ON e.tenant_id = a.tenant_id AND e.id = a.event_id WHERE a.tenant_id = $1 AND a.event_id = ANY($2::uuid[])`,
        [tenantId, latencyIds],
      )
    )
      .map((r) => Number(r.ms))
      .sort((a, b) => a - b);
    report('audit.latency_p50', percentile(lat, 50), 'ms', null, {
      rate: '500 events/s',
      measuredAs: 'recorded_at - received_at',
    });
    report('audit.latency_p99', percentile(lat, 99), 'ms', null, {
      rate: '500 events/s',
      target: '< 500',
    });

    await exportBench(stack);
  } finally {
    await stack.stop();
  }
}

async function rawStream(stack, tenantId) {
  const QueryStream = require('pg-query-stream');
  const client = await stack.pool.connect();
  const started = Date.now();
  let n = 0;
  try {
    const rows = client.query(
      new QueryStream('SELECT * FROM audit_entries WHERE tenant_id = $1 ORDER BY seq', [tenantId], {
        batchSize: 1000,
      }),
    );
    for await (const row of rows) {
      JSON.stringify(row);
      n++;
    }
  } finally {
    client.release();
  }
  if (n !== EXPORT_ENTRIES) throw new Error(`raw stream read ${n} rows`);
  return n / ((Date.now() - started) / 1000);
}

/** Export of a large chain through the API: throughput and the API process's peak RSS. */
async function exportBench(stack) {
  // The rows are made in SQL (a valid chain is not needed to measure streaming memory); the
  // worker is stopped first so it does not append the new tenant's own events meanwhile.
  for (const worker of stack.procs.slice(1)) worker.kill('SIGKILL');
  const other = JSON.parse(stack.cli('tenant', 'create', '--name', 'export'));
  await stack.query(
    `INSERT INTO audit_entries (tenant_id, chain, seq, event_id, type, subject, actor, data, occurred_at, recorded_at, prev_hash, hash)
     SELECT $1, 'main', g, md5(g::text)::uuid, 'invoice.paid', 'invoice/' || g, '{"type":"user","id":"u"}',
            jsonb_build_object('amount', g, 'currency', 'EUR', 'note', repeat('x', 100)), now(), now(), repeat('0', 64), md5(g::text) || md5(g::text)
     FROM generate_series(1, $2::int) g`,
    [other.tenantId, EXPORT_ENTRIES],
  );
  // A fresh API process, so its peak RSS is the export's alone.
  await stack.startApi();
  const api = stack.procs[stack.procs.length - 1];
  const before = peakRssMb(api.pid);
  const started = Date.now();
  const res = await fetch(`${stack.baseUrl}/v1/audit/export`, {
    headers: { authorization: `Bearer ${other.apiKey}` },
  });
  let lines = 0;
  for await (const chunk of res.body) for (const b of chunk) if (b === 10) lines++;
  const seconds = (Date.now() - started) / 1000;
  const rawRate = await rawStream(stack, other.tenantId);
  report('audit.export', lines / seconds, 'entries/s', rawRate, {
    entries: lines,
    apiPeakRssMb: peakRssMb(api.pid),
    apiPeakRssBeforeMb: before,
    baselineIs:
      'the same rows read through a pg cursor and JSON.stringify-ed in one process, no HTTP',
    target: 'peak RSS < 200 MB',
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
