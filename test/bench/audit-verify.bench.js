// Audit verify on a long chain (1,000,000 entries by default): GET /v1/audit/verify with 1, 2 and
// 4 worker threads, the CLI's verify, and the standalone verifier on the chain's export.
// Baselines, measured in the same run: the raw recompute in one Node process (pages of 5,000 rows
// through pg, the canonicalize package, SHA-256), and the standalone verifier in one pass.
'use strict';
const { createHash, randomUUID } = require('node:crypto');
const { createWriteStream, mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const jcs = require('canonicalize');
const { Stack, report, sampleEvent } = require('./lib');
const tool = require('../tools/verify-chain.js');

const ENTRIES = Number(process.env.BENCH_VERIFY_ENTRIES || 1000000);
const THREADS = (process.env.BENCH_VERIFY_THREADS || '1,2,4').split(',').map(Number);

const hash = (prev, entry) =>
  createHash('sha256').update(Buffer.from(prev, 'hex')).update(jcs(entry)).digest('hex');

/**
 * A valid chain of ENTRIES entries, hashed here and inserted 5,000 rows a statement; its export
 * (the lines GET /v1/audit/export writes) goes to `exportFile` for the standalone verifier.
 */
async function buildChain(stack, tenantId, exportFile) {
  const out = createWriteStream(exportFile);
  let prev = '0'.repeat(64);
  const base = Date.UTC(2026, 10, 1);
  for (let from = 1; from <= ENTRIES; from += 5000) {
    const cols = Array.from({ length: 11 }, () => []);
    const lines = [];
    for (let seq = from; seq < Math.min(ENTRIES + 1, from + 5000); seq++) {
      const e = sampleEvent(seq);
      const entry = {
        seq,
        chain: 'main',
        tenantId,
        eventId: randomUUID(),
        type: e.type,
        subject: e.subject,
        actor: e.actor,
        actingAsTenantId: null,
        data: e.data,
        occurredAt: new Date(base + seq * 10).toISOString(),
        recordedAt: new Date(base + seq * 10 + 7).toISOString(),
      };
      const h = hash(prev, entry);
      const row = [
        seq,
        entry.eventId,
        entry.type,
        entry.subject,
        JSON.stringify(entry.actor),
        JSON.stringify(entry.data),
        entry.occurredAt,
        entry.recordedAt,
        prev,
        h,
      ];
      row.forEach((v, i) => cols[i].push(v));
      lines.push(JSON.stringify({ ...entry, prevHash: prev, hash: h }));
      prev = h;
    }
    if (!out.write(`${lines.join('\n')}\n`)) await new Promise((r) => out.once('drain', r));
    await stack.query(
      `INSERT INTO audit_entries (tenant_id, chain, seq, event_id, type, subject, actor, data, occurred_at, recorded_at, prev_hash, hash)
       SELECT $1, 'main', * FROM unnest($2::bigint[], $3::uuid[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[], $8::timestamptz[], $9::timestamptz[], $10::text[], $11::text[])`,
      [tenantId, ...cols.slice(0, 10)],
    );
  }
  await new Promise((resolve, reject) => out.end((err) => (err ? reject(err) : resolve())));
  await stack.query(
    `INSERT INTO audit_chain_heads (tenant_id, chain, seq, hash) VALUES ($1, 'main', $2, $3)
     ON CONFLICT (tenant_id, chain) DO UPDATE SET seq = $2, hash = $3`,
    [tenantId, ENTRIES, prev],
  );
  await stack.query('VACUUM ANALYZE audit_entries');
}

/** Raw recompute baseline: page through the chain and recompute every hash, one process. */
async function rawVerify(stack, tenantId) {
  const started = Date.now();
  let after = 0;
  let n = 0;
  for (;;) {
    const rows = await stack.query(
      `SELECT * FROM audit_entries WHERE tenant_id = $1 AND chain = 'main' AND seq > $2 ORDER BY seq LIMIT 5000`,
      [tenantId, after],
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

async function restartApi(stack, env) {
  const api = stack.procs.shift();
  api.kill('SIGKILL');
  Object.assign(stack.env, env);
  await stack.startApi();
}

async function main() {
  const stack = await new Stack().start({ worker: false });
  const { tenantId, apiKey } = stack.tenant;
  const dir = mkdtempSync(join(tmpdir(), 'llbench-verify-'));
  try {
    const file = join(dir, 'export.ndjson');
    await buildChain(stack, tenantId, file);
    const raw = await rawVerify(stack, tenantId);

    for (const threads of THREADS) {
      await restartApi(stack, { AUDIT_VERIFY_THREADS: String(threads) });
      const started = Date.now();
      const res = await fetch(`${stack.baseUrl}/v1/audit/verify`, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      const body = await res.json();
      const rate = body.entries / ((Date.now() - started) / 1000);
      if (!body.ok || body.entries !== ENTRIES) throw new Error(`verify: ${JSON.stringify(body)}`);
      report('audit.verify_http', rate, 'entries/s', raw, {
        threads,
        entries: body.entries,
        baselineIs: 'raw recompute in one Node process (pg pages of 5,000, canonicalize)',
        target: 100000,
      });
    }

    stack.env.AUDIT_VERIFY_THREADS = '0';
    // The CLI boots an application context first: timed alone on a tenant with an empty chain.
    const empty = JSON.parse(stack.cli('tenant', 'create', '--name', 'empty'));
    const bootStarted = Date.now();
    stack.cli('audit', 'verify', '--tenant', empty.tenantId);
    const boot = (Date.now() - bootStarted) / 1000;
    const cliStarted = Date.now();
    const cli = JSON.parse(stack.cli('audit', 'verify', '--tenant', tenantId));
    if (!cli.ok) throw new Error(`cli verify: ${JSON.stringify(cli)}`);
    const cliSeconds = (Date.now() - cliStarted) / 1000;
    report('audit.verify_cli', cli.entries / cliSeconds, 'entries/s', raw, {
      threads: 'default (one per core, at most 4)',
      entries: cli.entries,
      withoutBoot: Math.round(cli.entries / Math.max(0.001, cliSeconds - boot)),
      bootSeconds: boot,
      baselineIs: 'raw recompute in one Node process',
    });

    const t0 = Date.now();
    const onePass = await tool.verify(file, undefined, undefined, { parallelFromBytes: Infinity });
    const onePassRate = onePass.entries / ((Date.now() - t0) / 1000);
    for (const threads of THREADS) {
      const t1 = Date.now();
      const result = await tool.verify(file, undefined, undefined, { threads });
      if (!result.ok || result.entries !== ENTRIES) {
        throw new Error(`verify-chain.js: ${JSON.stringify(result)}`);
      }
      report(
        'audit.verify_tool',
        result.entries / ((Date.now() - t1) / 1000),
        'entries/s',
        onePassRate,
        {
          threads,
          entries: result.entries,
          baselineIs: 'test/tools/verify-chain.js in one pass (as before ranges on threads)',
        },
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
