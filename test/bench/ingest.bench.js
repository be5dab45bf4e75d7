// Ingestion: POST /v1/events (32 clients) and POST /v1/events/batch, with the worker stopped and
// running, against Emmett (the event store a team would pick instead, appending in-process) and
// raw PostgreSQL inserts of the same events, all measured in alternating rounds of the same run.
// BENCH_DEBUG=1 prints every round's figures on stderr.
'use strict';
const autocannon = require('autocannon');
const { Stack, report, sampleEvent } = require('./lib');
const { EmmettPeer } = require('./peers');

const SECONDS = Number(process.env.BENCH_SECONDS || 12);
const ROUNDS = 3;
const debug = (line) => process.env.BENCH_DEBUG && process.stderr.write(`${line}\n`);
let position = 0;

async function rawInserts(stack, rowsPerInsert, concurrency, seconds) {
  await stack.query(`CREATE TABLE IF NOT EXISTS bench_raw_events (LIKE events INCLUDING ALL)`);
  const tenant = stack.tenant.tenantId;

  let rows = 0;
  const deadline = Date.now() + seconds * 1000;
  const { randomUUID } = require('node:crypto');
  const loop = async () => {
    while (Date.now() < deadline) {
      const n = rowsPerInsert;
      const events = Array.from({ length: n }, (_, i) => sampleEvent(i));
      const now = new Date();
      await stack.pool.query({
        name: `raw_insert_${n}`,
        text: `INSERT INTO bench_raw_events (tenant_id, id, position, type, subject, actor_type, actor_id, occurred_at, received_at, data)
               SELECT $1, * FROM unnest($2::uuid[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::timestamptz[], $10::jsonb[])`,
        values: [
          tenant,
          events.map(() => randomUUID()),
          events.map(() => ++position),
          events.map((e) => e.type),
          events.map((e) => e.subject),
          events.map((e) => e.actor.type),
          events.map((e) => e.actor.id),
          events.map(() => now),
          events.map(() => now),
          events.map((e) => JSON.stringify(e.data)),
        ],
      });
      rows += n;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  return rows / ((Date.now() - started) / 1000);
}

function cannon(url, key, body, connections, seconds) {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        method: 'POST',
        connections,
        duration: seconds,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify(body),
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

/**
 * Alternates short raw and API runs, so a noisy neighbour or a growing table weighs on both sides
 * alike, and sums each side over its rounds.
 */
async function interleaved(baselines, api) {
  const raw = baselines.map(() => 0);
  let ok = 0;
  let failed = 0;
  let seconds = 0;
  const latencies = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, measure] of baselines.entries()) {
      const v = await measure();
      debug(`round ${round} baseline ${i}: ${Math.round(v)}/s`);
      raw[i] += v / ROUNDS;
    }
    const r = await api();
    debug(`round ${round} api: ${r.requests.average} requests/s`);
    ok += r['2xx'];
    failed += r.non2xx + r.errors;
    seconds += r.duration;
    latencies.push(r.latency);
  }
  const mid = (k) => latencies.map((l) => l[k]).sort((x, y) => x - y)[Math.floor(ROUNDS / 2)];
  return { raw, perSecond: ok / seconds, p50ms: mid('p50'), p99ms: mid('p99'), failed };
}

const ratio = (a, b) => Math.round((a / b) * 1000) / 1000;

/** Single events (32 clients) and batches of 100 (8 clients), beside raw inserts and Emmett. */
async function measure(stack, emmett, workerIs) {
  const key = stack.tenant.apiKey;
  const slice = SECONDS / ROUNDS;
  const single = sampleEvent(1);
  const batchBody = { events: Array.from({ length: 100 }, (_, i) => sampleEvent(i)) };
  await cannon(`${stack.baseUrl}/v1/events`, key, single, 32, 2); // warm-up
  await cannon(`${stack.baseUrl}/v1/events/batch`, key, batchBody, 8, 2);

  const one = await interleaved(
    [() => emmett.append(32, slice, 1), () => rawInserts(stack, 1, 32, slice / 2)],
    () => cannon(`${stack.baseUrl}/v1/events`, key, single, 32, slice),
  );
  report(`ingest.single.worker_${workerIs}`, one.perSecond, 'events/s', one.raw[0], {
    baselineIs: 'Emmett appendToStream in-process, 32 concurrent, one event each',
    rawBaseline: Math.round(one.raw[1]),
    ratioToRaw: ratio(one.perSecond, one.raw[1]),
    rawIs: 'raw single-row INSERTs through pg, 32 concurrent',
    p50ms: one.p50ms,
    p99ms: one.p99ms,
    failed: one.failed,
    target: 'ratio >= 1.5',
  });

  const batch = await interleaved(
    [
      () => emmett.append(8, slice, 100),
      () => rawInserts(stack, 100, 4, slice / 2),
      // The same inserts one at a time: what one tenant's ordered stream can use at most.
      () => rawInserts(stack, 100, 1, slice / 2),
    ],
    () => cannon(`${stack.baseUrl}/v1/events/batch`, key, batchBody, 8, slice),
  );
  const batchRate = batch.perSecond * 100;
  const [peer, raw4, raw1] = batch.raw;
  report(`ingest.batch.worker_${workerIs}`, batchRate, 'events/s', peer, {
    baselineIs: 'Emmett appendToStream in-process, 8 concurrent, 100 events each',
    rawBaseline: Math.round(raw4),
    ratioToRaw: ratio(batchRate, raw4),
    rawIs: 'raw 100-row multi-row INSERTs through pg, 4 concurrent',
    rawSerialBaseline: Math.round(raw1),
    ratioToSerial: ratio(batchRate, raw1),
    p50ms: batch.p50ms,
    p99ms: batch.p99ms,
    failed: batch.failed,
    target: 'ratio >= 1.5',
  });
}

async function main() {
  const stack = await new Stack({ DATABASE_POOL_SIZE: '10' }).start({ worker: false });
  const emmett = await new EmmettPeer(stack.id).start();
  try {
    await measure(stack, emmett, 'stopped');
    await stack.startWorker();
    await measure(stack, emmett, 'running');
    const [{ n }] = await stack.query('SELECT count(*)::int AS n FROM events');
    process.stderr.write(`events committed: ${n}\n`);
  } finally {
    await stack.stop();
    await emmett.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
