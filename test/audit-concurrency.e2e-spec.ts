import { Ledgerline, Tenant, event, waitFor } from './support/ledgerline';

/** Runs the tasks with at most `width` in flight; results in task order. */
async function inPool<T>(tasks: (() => Promise<T>)[], width: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length) {
        const i = next++;
        out[i] = await tasks[i]();
      }
    }),
  );
  return out;
}

describe('audit chain under concurrency (2 APIs, 2 workers, 3 tenants)', () => {
  let ll: Ledgerline;
  let tenants: Tenant[];
  const published = new Map<string, string[]>();

  beforeAll(async () => {
    ll = await Ledgerline.start({
      apis: 2,
      workers: 2,
      // checkpoints (and their audit.checkpoint events) are made while the chains grow
      env: { AUDIT_CHECKPOINT_INTERVAL_MS: '300', AUDIT_CHECKPOINT_EVERY_ENTRIES: '50' },
    });
    tenants = await Promise.all(['alpha', 'beta', 'gamma'].map((n) => ll.createTenant(n)));
    for (const t of tenants) published.set(t.tenantId, []);
  });
  afterAll(() => ll?.stop());

  const bases = () => ll.apis.map((a) => `http://127.0.0.1:${a.port}`);

  it('keeps every chain gap-free and in event-store order', async () => {
    expect(ll.apis).toHaveLength(2);
    expect(ll.workers).toHaveLength(2);
    const tasks: (() => Promise<void>)[] = [];
    for (let i = 0; i < 60; i++) {
      tenants.forEach((t, k) => {
        const base = bases()[(i + k) % 2];
        if (i % 10 === 9) {
          tasks.push(async () => {
            const res = await ll.request('POST', '/v1/events/batch', {
              key: t.apiKey,
              base,
              body: {
                events: Array.from({ length: 40 }, (_, j) =>
                  event({ subject: `batch/${i}/${j}`, data: { i, j, tenant: k } }),
                ),
              },
            });
            expect(res.status).toBe(202);
            published.get(t.tenantId)!.push(...res.body.ids);
          });
        } else {
          tasks.push(async () => {
            const res = await ll.request('POST', '/v1/events', {
              key: t.apiKey,
              base,
              body: event({
                type: i % 2 ? 'order.created' : 'invoice.paid',
                subject: `single/${i}`,
                data: { i, tenant: k, note: `reach me at ops${i}@example.com` },
              }),
            });
            expect(res.status).toBe(202);
            published.get(t.tenantId)!.push(res.body.id);
          });
        }
      });
    }
    await inPool(tasks, 12);

    const ids = tenants.map((t) => t.tenantId);
    await waitFor(
      'every chain to catch up',
      async () => {
        const rows = await ll.sql(
          `SELECT t.id,
                  (SELECT count(*) FROM events e WHERE e.tenant_id = t.id AND e.type <> 'audit.checkpoint')::int AS events,
                  coalesce((SELECT seq FROM audit_chain_heads h WHERE h.tenant_id = t.id AND h.chain = 'main'), 0)::int AS head
           FROM unnest($1::uuid[]) AS t(id)`,
          [ids],
        );
        return rows.every((r) => r.events === r.head);
      },
      60000,
      200,
    );

    for (const t of tenants) {
      const mine = published.get(t.tenantId)!;
      expect(mine).toHaveLength(54 + 6 * 40);
      const rows = await ll.sql<{
        seq: number;
        event_id: string;
        position: number;
        tenant: string;
      }>(
        `SELECT a.seq::int AS seq, a.event_id, e.position::int AS position, a.tenant_id AS tenant
         FROM audit_entries a JOIN events e ON e.tenant_id = a.tenant_id AND e.id = a.event_id
         WHERE a.tenant_id = $1 AND a.chain = 'main' ORDER BY a.seq`,
        [t.tenantId],
      );
      const events = await ll.sql<{ id: string }>(
        `SELECT id FROM events WHERE tenant_id = $1 AND type <> 'audit.checkpoint' ORDER BY position`,
        [t.tenantId],
      );
      // counts match: the published events plus tenant.created and api_key.created
      expect(events).toHaveLength(mine.length + 2);
      expect(rows).toHaveLength(events.length);
      // gap-free
      expect(rows.every((r, i) => r.seq === i + 1)).toBe(true);
      // exactly the tenant's events, each once, in position order
      expect(rows.map((r) => r.event_id)).toEqual(events.map((e) => e.id));
      expect(rows.filter((r, i) => i > 0 && r.position <= rows[i - 1].position)).toEqual([]);
      expect(new Set(rows.map((r) => r.event_id))).toEqual(
        new Set([...mine, ...events.slice(0, 2).map((e) => e.id)]),
      );
      // checkpoints were signed along the way, never more than 50 entries apart
      const signed = await ll.sql<{ seq: number }>(
        `SELECT seq::int AS seq FROM audit_checkpoints WHERE tenant_id = $1 ORDER BY seq`,
        [t.tenantId],
      );
      expect(signed.length).toBeGreaterThan(0);
      const gaps = signed.map((c, i) => c.seq - (i ? signed[i - 1].seq : 0));
      expect(gaps.filter((g) => g > 50)).toEqual([]);

      for (const base of bases()) {
        const verify = await ll.request('GET', '/v1/audit/verify?chain=main', {
          key: t.apiKey,
          base,
        });
        expect(verify.body).toEqual({
          ok: true,
          chain: 'main',
          entries: rows.length,
          head: { seq: rows.length, hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
        });
      }
    }
    const [{ n: chainedCheckpoints }] = await ll.sql(
      `SELECT count(*)::int AS n FROM audit_entries WHERE type = 'audit.checkpoint'`,
    );
    expect(chainedCheckpoints).toBe(0);
  });

  it('audits events published through either API (GET /v1/events/{id} on both)', async () => {
    const [t] = tenants;
    const [a, b] = bases();
    const viaA = await ll.request('POST', '/v1/events', { key: t.apiKey, base: a, body: event() });
    const viaB = await ll.request('POST', '/v1/events', { key: t.apiKey, base: b, body: event() });
    expect(viaA.status).toBe(202);
    expect(viaB.status).toBe(202);
    const seqs: number[] = [];
    for (const id of [viaA.body.id, viaB.body.id]) {
      for (const base of [a, b]) {
        const audit = await waitFor(`${id} audited`, async () => {
          const res = await ll.request('GET', `/v1/events/${id}`, { key: t.apiKey, base });
          return res.status === 200 && res.body.audit;
        });
        expect(audit).toEqual({ chain: 'main', seq: expect.any(Number) });
        seqs.push(audit.seq);
      }
    }
    expect(seqs[0]).toBe(seqs[1]);
    expect(seqs[2]).toBe(seqs[3]);
    expect(seqs[2]).toBe(seqs[0] + 1);
  });
});
