// AI-action approvals: submissions/s with 50 clients (baseline: raw single-row INSERTs with 50
// clients through pg, same run), submit → visible in the pending queue p99, and the pending
// listing p99 with 100,000 actions in the table (baseline: the same SELECT through pg), with the
// EXPLAIN plan that shows the index. Never asserted on time.
'use strict';
const { request, Agent } = require('undici');
const { Stack, report, percentile } = require('./lib');

const CLIENTS = 50;
const SECONDS = Number(process.env.BENCH_AI_SECONDS || 10);
const TABLE_ROWS = 100000;

const body = (i) =>
  JSON.stringify({
    type: 'crm.update',
    initiator: 'autonomous',
    agent: { id: `agent-${i % 50}`, model: 'm' },
    input: { dealId: `d_${i}`, amount: 100 + (i % 900), note: 'raise the discount' },
  });

async function closedLoop(seconds, clients, once) {
  const deadline = Date.now() + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < deadline) await once(n++);
    }),
  );
  return n / seconds;
}

async function main() {
  const stack = await new Stack().start({ worker: false });
  const agent = new Agent({ connections: CLIENTS, keepAliveTimeout: 30000 });
  const headers = {
    'content-type': 'application/json',
    authorization: `Bearer ${stack.tenant.apiKey}`,
  };
  const call = async (method, path, payload) => {
    const res = await request(`${stack.baseUrl}${path}`, {
      method,
      headers,
      body: payload,
      dispatcher: agent,
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
    return JSON.parse(text);
  };
  try {
    await call('PUT', '/v1/ai-policies/crm.update', JSON.stringify({ risk: 'medium' }));
    // Raw baseline: single-row INSERTs of the same size, 50 clients, through pg.
    const { Pool } = require('pg');
    const raw = new Pool({ connectionString: stack.dbUrl, max: CLIENTS });
    // The database is dropped WITH (FORCE) at the end: a connection it cuts is not a failure.
    raw.on('error', () => undefined);
    await raw.query('CREATE TABLE bench_raw (id bigserial PRIMARY KEY, tenant_id uuid, doc jsonb)');
    const rawRate = await closedLoop(SECONDS, CLIENTS, (i) =>
      raw.query('INSERT INTO bench_raw (tenant_id, doc) VALUES ($1, $2)', [
        stack.tenant.tenantId,
        body(i),
      ]),
    );
    // The API's acceptance alone (the worker stopped, as a deployment with workers on other
    // machines sees it), then with the worker on this machine's two cores too, auditing the
    // `main` and `ai` chains as the actions arrive.
    const stopped = await closedLoop(SECONDS, CLIENTS, (i) =>
      call('POST', '/v1/ai-actions', body(i)),
    );
    report('ai_submissions_50_clients.worker_stopped', stopped, 'actions/s', rawRate, {
      clients: CLIENTS,
    });
    await stack.startWorker();
    const running = await closedLoop(SECONDS, CLIENTS, (i) =>
      call('POST', '/v1/ai-actions', body(i)),
    );
    report('ai_submissions_50_clients.worker_running', running, 'actions/s', rawRate, {
      clients: CLIENTS,
    });

    // Submit → visible in the pending queue (the projection commits with the submission).
    const visible = [];
    for (let i = 0; i < 300; i++) {
      const started = process.hrtime.bigint();
      const a = await call('POST', '/v1/ai-actions', body(i).replace('crm.update', 'crm.visible'));
      for (;;) {
        const page = await call(
          'GET',
          `/v1/ai-actions?status=pending_approval&type=crm.visible&cursor=${cursorBefore(a.id)}&limit=1`,
        );
        if (page.data[0]?.id === a.id) break;
      }
      visible.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    visible.sort((x, y) => x - y);
    report('ai_submit_to_pending_p99', percentile(visible, 99), 'ms', null, {
      p50: percentile(visible, 50),
    });

    // Fill to 100,000 actions (copies of real rows), then list the oldest pending 50.
    const [{ n }] = await stack.query('SELECT count(*)::int AS n FROM ai_actions');
    await stack.query(
      `INSERT INTO ai_actions (tenant_id, id, type, agent_id, risk, status, auto_approved, version, view, created_at, expires_at, updated_at)
       SELECT a.tenant_id, gen_random_uuid(), a.type, a.agent_id, a.risk,
              CASE WHEN g % 10 = 0 THEN 'pending_approval' ELSE 'succeeded' END, false, a.version, a.view,
              a.created_at, a.expires_at, a.updated_at
       FROM (SELECT * FROM ai_actions LIMIT 1) a, generate_series(1, $1) g`,
      [Math.max(0, TABLE_ROWS - n)],
    );
    await stack.query('ANALYZE ai_actions');
    const plan = await stack.query(
      `EXPLAIN SELECT view FROM ai_actions WHERE tenant_id = $1 AND status = 'pending_approval' ORDER BY id LIMIT 51`,
      [stack.tenant.tenantId],
    );
    const usesIndex = plan
      .map((r) => r['QUERY PLAN'])
      .join(' ')
      .match(/Index \w* ?Scan using (\w+)/);
    const timeIt = async (fn, rounds = 300) => {
      const ms = [];
      for (let i = 0; i < rounds; i++) {
        const s = process.hrtime.bigint();
        await fn();
        ms.push(Number(process.hrtime.bigint() - s) / 1e6);
      }
      return ms.sort((x, y) => x - y);
    };
    const rawList = await timeIt(() =>
      stack.query(
        `SELECT view FROM ai_actions WHERE tenant_id = $1 AND status = 'pending_approval' ORDER BY id LIMIT 51`,
        [stack.tenant.tenantId],
      ),
    );
    const apiList = await timeIt(() =>
      call('GET', '/v1/ai-actions?status=pending_approval&limit=50'),
    );
    report('ai_list_pending_100k_p99', percentile(apiList, 99), 'ms', percentile(rawList, 99), {
      rows: TABLE_ROWS,
      index: usesIndex ? usesIndex[1] : null,
      p50: percentile(apiList, 50),
    });
    await raw.end();
  } finally {
    await agent.close();
    await stack.stop();
  }
}

/** A cursor just before `id` (cursors are base64url JSON of the last id seen). */
function cursorBefore(id) {
  const hex = id.replace(/-/g, '');
  const prev = (BigInt(`0x${hex}`) - 1n).toString(16).padStart(32, '0');
  const uuid = `${prev.slice(0, 8)}-${prev.slice(8, 12)}-${prev.slice(12, 16)}-${prev.slice(16, 20)}-${prev.slice(20)}`;
  return Buffer.from(JSON.stringify({ id: uuid })).toString('base64url');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
