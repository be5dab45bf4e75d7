import { Ledgerline, Tenant, sleep, waitFor } from '../support/ledgerline';

describe('AI-action expiry survives a killed worker and a flushed Redis', () => {
  let ll: Ledgerline;
  let t: Tenant;
  let submitter: string;

  beforeAll(async () => {
    ll = await Ledgerline.start();
    t = await ll.createTenant('expiry-faults');
    const k = await ll.request('POST', '/v1/api-keys', {
      key: t.apiKey,
      body: { name: 's', scopes: ['ai-actions:submit'] },
    });
    submitter = k.body.key;
  });
  afterAll(async () => {
    await ll?.stop();
  });

  const submit = async (expiresInSeconds: number) => {
    const res = await ll.request('POST', '/v1/ai-actions', {
      key: submitter,
      body: {
        type: 'records.delete',
        initiator: 'autonomous',
        agent: { id: 'a' },
        input: { ids: [1, 2] },
        expiresInSeconds,
      },
    });
    expect(res.body.status).toBe('pending_approval');
    return res.body as { id: string; expiresAt: string };
  };

  it('each pending action expires once, within 10 s of its deadline or of the worker coming back, and none executes', async () => {
    const early = await Promise.all(Array.from({ length: 20 }, () => submit(2)));
    const late = await Promise.all(Array.from({ length: 20 }, () => submit(8)));
    // The delayed expiry jobs are in Redis; kill the worker and make Redis lose them (every key
    // under this suite's prefix: other suites' keys in the shared database stay).
    await ll.stopProc(ll.workers[0], 'SIGKILL');
    expect(await ll.forgetRedisKeys()).toBeGreaterThan(0);
    await sleep(3500); // the early batch's deadlines pass while no worker runs
    const early0 = await ll.request('GET', `/v1/ai-actions/${early[0].id}`, { key: submitter });
    expect(early0.body.status).toBe('pending_approval');
    const restarted = Date.now();
    await ll.startWorker();
    const all = [...early, ...late];
    const expiredAt = new Map<string, number>();
    await waitFor(
      'every action expired',
      async () => {
        for (const a of all) {
          if (expiredAt.has(a.id)) continue;
          const r = await ll.request('GET', `/v1/ai-actions/${a.id}`, { key: submitter });
          if (r.body.status === 'expired') expiredAt.set(a.id, Date.now());
        }
        return expiredAt.size === all.length;
      },
      30000,
      250,
    );
    for (const a of early) expect(expiredAt.get(a.id)! - restarted).toBeLessThan(10000);
    for (const a of late)
      expect(expiredAt.get(a.id)! - Date.parse(a.expiresAt)).toBeLessThan(10000);
    // Once: one expired step and one ai_action.expired event each; no execution ever started.
    await sleep(2500); // a further sweep and any stale job find nothing to do
    const steps = await ll.sql<{ kind: string; n: number }>(
      `SELECT kind, count(*)::int AS n FROM ai_action_steps WHERE tenant_id = $1 GROUP BY kind ORDER BY kind`,
      [t.tenantId],
    );
    expect(steps).toEqual([
      { kind: 'expired', n: 40 },
      { kind: 'submitted', n: 40 },
    ]);
    const events = await ll.sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM events WHERE tenant_id = $1 AND type = 'ai_action.expired'`,
      [t.tenantId],
    );
    expect(events[0].n).toBe(40);
    const outcome = await ll.request('POST', `/v1/ai-actions/${early[0].id}/outcome`, {
      key: submitter,
      body: { status: 'succeeded', output: {} },
    });
    expect(outcome.body.code).toBe('not_executable');
    const chain = await waitFor('ai chain verified with the expiries', async () => {
      const v = await ll.request('GET', '/v1/audit/verify?chain=ai', { key: t.apiKey });
      return v.body.ok && v.body.entries === 80 ? v.body : null;
    });
    expect(chain.ok).toBe(true);
  });
});
