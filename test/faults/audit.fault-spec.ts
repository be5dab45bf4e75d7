import Redis from 'ioredis';
import { Ledgerline, Tenant, event, waitFor } from '../support/ledgerline';

const BATCHES = 10;
const PER_BATCH = 500;

describe('audit chain survives a killed worker and a flushed Redis', () => {
  let ll: Ledgerline;
  let t: Tenant;
  let redis: Redis;

  beforeAll(async () => {
    ll = await Ledgerline.start({
      workers: 1,
      // the default of a checkpoint every 1,000 entries; no timer checkpoints during the test
      env: { AUDIT_CHECKPOINT_INTERVAL_MS: '3600000' },
    });
    redis = ll.redis() as Redis;
    t = await ll.createTenant('fault');
  });
  afterAll(async () => {
    await ll?.stop();
    redis?.disconnect();
  });

  const headSeq = async () => {
    const [r] = await ll.sql(
      `SELECT seq::int AS seq FROM audit_chain_heads WHERE tenant_id = $1 AND chain = 'main'`,
      [t.tenantId],
    );
    return (r?.seq as number | undefined) ?? 0;
  };
  /** Whether a worker connection is inside an audit transaction right now. */
  const auditTransactionOpen = async () => {
    const [r] = await ll.sql(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid()
         AND state IN ('active', 'idle in transaction')
         AND query ~ '(audit_entries|audit_chain_heads|audit_checkpoints|FROM stream_cursors|FROM events)'`,
    );
    return (r.n as number) > 0;
  };
  const chainedEvents = async () => {
    const [r] = await ll.sql(
      `SELECT count(*)::int AS n FROM events WHERE tenant_id = $1 AND type <> 'audit.checkpoint'`,
      [t.tenantId],
    );
    return r.n as number;
  };
  const publishBatch = async (b: number) => {
    const res = await ll.request('POST', '/v1/events/batch', {
      key: t.apiKey,
      body: {
        events: Array.from({ length: PER_BATCH }, (_, i) =>
          event({
            subject: `invoice/${b}-${i}`,
            actor: { type: 'service', id: `svc_${b % 3}` },
            data: { b, i, contact: `user${b}.${i}@example.com` },
          }),
        ),
      },
    });
    expect(res.status).toBe(202);
    expect(res.body.ids).toHaveLength(PER_BATCH);
  };

  it('audits every event exactly once, in event-store order, with no gaps', async () => {
    // first half published while the worker audits
    let firstHalfDone = false;
    const firstHalf = (async () => {
      for (let b = 0; b < BATCHES / 2; b++) await publishBatch(b);
      firstHalfDone = true;
    })();
    // Kill it once it has audited some published events (seq 1 and 2 are the tenant's own
    // tenant.created and api_key.created), preferably while an audit transaction is open.
    await waitFor(
      'the worker to audit published events',
      async () => (await headSeq()) > 2 && (firstHalfDone || (await auditTransactionOpen())),
      60000,
      5,
    );
    await ll.stopProc(ll.workers[0], 'SIGKILL');
    await firstHalf;

    // Redis loses every job, every lock and every completed-job id (every key under this suite's
    // prefix: other suites' keys in the shared database stay)
    expect(await ll.forgetRedisKeys()).toBeGreaterThan(0);
    expect(await redis.keys(`{${ll.prefix}}*`)).toEqual([]);

    // the second half arrives while no worker runs
    for (let b = BATCHES / 2; b < BATCHES; b++) await publishBatch(b);
    const total = await chainedEvents();
    expect(total).toBe(BATCHES * PER_BATCH + 2); // + tenant.created, api_key.created
    // the killed worker left the chain part-way
    const auditedAtKill = await headSeq();
    expect(auditedAtKill).toBeGreaterThan(2);
    expect(auditedAtKill).toBeLessThan(total);

    await ll.startWorker();
    await waitFor('the chain to catch up', async () => (await headSeq()) === total, 90000, 200);

    const rows = await ll.sql<{ seq: number; event_id: string; position: number }>(
      `SELECT a.seq::int AS seq, a.event_id, e.position::int AS position
       FROM audit_entries a JOIN events e ON e.tenant_id = a.tenant_id AND e.id = a.event_id
       WHERE a.tenant_id = $1 AND a.chain = 'main' ORDER BY a.seq`,
      [t.tenantId],
    );
    const [{ n: entryRows }] = await ll.sql(
      `SELECT count(*)::int AS n FROM audit_entries WHERE tenant_id = $1`,
      [t.tenantId],
    );
    expect(entryRows).toBe(total);
    expect(rows).toHaveLength(total);
    // seq is exactly 1..n
    expect(rows.every((r, i) => r.seq === i + 1)).toBe(true);
    // no event twice
    expect(new Set(rows.map((r) => r.event_id)).size).toBe(total);
    // every event exactly once
    const events = await ll.sql<{ id: string }>(
      `SELECT id FROM events WHERE tenant_id = $1 AND type <> 'audit.checkpoint' ORDER BY position`,
      [t.tenantId],
    );
    expect(rows.map((r) => r.event_id)).toEqual(events.map((e) => e.id));
    // in event-store order
    const outOfOrder = rows.filter((r, i) => i > 0 && r.position <= rows[i - 1].position);
    expect(outOfOrder).toEqual([]);
    // no checkpoint event in the chain
    const [{ n: checkpointEntries }] = await ll.sql(
      `SELECT count(*)::int AS n FROM audit_entries WHERE tenant_id = $1 AND type = 'audit.checkpoint'`,
      [t.tenantId],
    );
    expect(checkpointEntries).toBe(0);

    // signed every 1,000 entries, each once, whatever the crash did to the batches
    const signed = await ll.sql<{ seq: number }>(
      `SELECT seq::int AS seq FROM audit_checkpoints WHERE tenant_id = $1 ORDER BY seq`,
      [t.tenantId],
    );
    expect(signed.map((c) => c.seq)).toEqual([1000, 2000, 3000, 4000, 5000]);
    const [{ n: checkpointEvents }] = await ll.sql(
      `SELECT count(*)::int AS n FROM events WHERE tenant_id = $1 AND type = 'audit.checkpoint'`,
      [t.tenantId],
    );
    expect(checkpointEvents).toBe(5);

    const verify = await ll.request('GET', '/v1/audit/verify?chain=main', { key: t.apiKey });
    expect(verify.status).toBe(200);
    expect(verify.body).toEqual({
      ok: true,
      chain: 'main',
      entries: total,
      head: { seq: total, hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
  });
});
