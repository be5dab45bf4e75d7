// Ingestion: POST /v1/events (50 clients) and POST /v1/events/batch, against the same
// machine's raw PostgreSQL inserts of the same events, measured in the same run.
'use strict';
const autocannon = require('autocannon');
const { Stack, report, sampleEvent } = require('./lib');

const SECONDS = Number(process.env.BENCH_SECONDS || 10);
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

async function main() {
  const stack = await new Stack({ DATABASE_POOL_SIZE: '10' }).start({ worker: false });
  try {
    const key = stack.tenant.apiKey;
    await cannon(`${stack.baseUrl}/v1/events`, key, sampleEvent(1), 50, 2); // warm-up
    const rawSingle = await rawInserts(stack, 1, 50, SECONDS / 2);
    const single = await cannon(`${stack.baseUrl}/v1/events`, key, sampleEvent(1), 50, SECONDS);
    const singleRate = single['2xx'] / (single.duration || SECONDS);
    report('ingest.single', singleRate, 'events/s', rawSingle, {
      baselineIs: 'raw single-row INSERTs through pg, 50 concurrent, pool 10',
      p50ms: single.latency.p50,
      p99ms: single.latency.p99,
      non2xx: single.non2xx,
      target: 2000,
    });

    const rawBatch = await rawInserts(stack, 100, 4, SECONDS / 2);
    // The same inserts one at a time: what one tenant's ordered stream can use at most.
    const rawBatchSerial = await rawInserts(stack, 100, 1, SECONDS / 2);
    const batchBody = { events: Array.from({ length: 100 }, (_, i) => sampleEvent(i)) };
    const batch = await cannon(`${stack.baseUrl}/v1/events/batch`, key, batchBody, 8, SECONDS);
    const batchRate = (batch['2xx'] * 100) / (batch.duration || SECONDS);
    report('ingest.batch', batchRate, 'events/s', rawBatch, {
      baselineIs: 'raw 100-row multi-row INSERTs through pg, 4 concurrent',
      rawSerialBaseline: Math.round(rawBatchSerial),
      ratioToSerial: Math.round((batchRate / rawBatchSerial) * 1000) / 1000,
      p50ms: batch.latency.p50,
      p99ms: batch.latency.p99,
      non2xx: batch.non2xx,
      target: 15000,
    });
    const [{ n }] = await stack.query('SELECT count(*)::int AS n FROM events');
    process.stderr.write(`events committed: ${n}\n`);
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
