import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chainTool as tool, entryHash } from './support/audit-chain';
import { Ledgerline, Tenant, event, waitFor } from './support/ledgerline';

interface Entry {
  seq: number;
  chain: string;
  tenantId: string;
  eventId: string;
  type: string;
  subject: string | null;
  actor: { type: string; id: string };
  actingAsTenantId: string | null;
  data: Record<string, unknown>;
  occurredAt: string;
  recordedAt: string;
  prevHash: string;
  hash: string;
}

/**
 * What a DBA can do to the audit tables directly. Each test works in a tenant of its own, so a
 * broken chain in one test never shows in another.
 */
describe('audit chain against a hostile DBA', () => {
  let ll: Ledgerline;
  let dir: string;
  const tenants: Record<string, Tenant> = {};
  const names = ['triggers', 'data', 'gap', 'tail', 'prev', 'link', 'rewrite', 'forged', 'flood'];

  beforeAll(async () => {
    ll = await Ledgerline.start({
      env: { AUDIT_CHECKPOINT_EVERY_ENTRIES: '5', AUDIT_CHECKPOINT_INTERVAL_MS: '3600000' },
    });
    dir = mkdtempSync(join(tmpdir(), 'audit-tamper-'));
    const created = await Promise.all(names.map((n) => ll.createTenant(n)));
    names.forEach((n, i) => (tenants[n] = created[i]));
    // Four rounds of five events, each audited before the next: with a checkpoint every five
    // entries this gives every tenant several checkpoints inside its chain.
    for (let round = 0; round < 4; round++) {
      await Promise.all(
        names.map(async (n) => {
          const res = await ll.request('POST', '/v1/events/batch', {
            key: tenants[n].apiKey,
            body: {
              events: Array.from({ length: 5 }, (_, i) =>
                event({ subject: `invoice/${round}-${i}`, data: { round, i, amount: 100 + i } }),
              ),
            },
          });
          expect(res.status).toBe(202);
        }),
      );
      await caughtUp(2 + 5 * (round + 1));
    }
  });
  afterAll(async () => {
    await ll?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const TOTAL = 22;

  /** Waits until every tenant's chain head is at seq n (one query: ll.sql is one connection). */
  async function caughtUp(n: number): Promise<void> {
    await waitFor(`every chain at seq ${n}`, async () => {
      const rows = await ll.sql(
        `SELECT seq::int AS seq FROM audit_chain_heads WHERE tenant_id = ANY($1::uuid[]) AND chain = 'main'`,
        [names.map((name) => tenants[name].tenantId)],
      );
      return rows.length === names.length && rows.every((r) => r.seq === n);
    });
  }

  const verify = async (t: Tenant) => {
    const res = await ll.request('GET', '/v1/audit/verify?chain=main', { key: t.apiKey });
    expect(res.status).toBe(200);
    return res.body;
  };

  async function entries(t: Tenant): Promise<Entry[]> {
    const rows = await ll.sql(
      `SELECT * FROM audit_entries WHERE tenant_id = $1 AND chain = 'main' ORDER BY seq`,
      [t.tenantId],
    );
    return rows.map((r) => ({
      seq: Number(r.seq),
      chain: r.chain,
      tenantId: r.tenant_id,
      eventId: r.event_id,
      type: r.type,
      subject: r.subject,
      actor: r.actor,
      actingAsTenantId: r.acting_as_tenant_id,
      data: r.data,
      occurredAt: (r.occurred_at as Date).toISOString(),
      recordedAt: (r.recorded_at as Date).toISOString(),
      prevHash: r.prev_hash,
      hash: r.hash,
    }));
  }

  async function checkpoints(t: Tenant): Promise<any[]> {
    const res = await ll.request('GET', '/v1/audit/checkpoints?chain=main&limit=500', {
      key: t.apiKey,
    });
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    return res.body.data;
  }

  /** Runs statements with user triggers off on the test's own superuser connection. */
  async function asDba(work: () => Promise<unknown>): Promise<void> {
    await ll.sql('SET session_replication_role = replica');
    try {
      await work();
    } finally {
      await ll.sql('SET session_replication_role = DEFAULT');
    }
  }

  /** Runs one statement in a transaction that is rolled back, and returns its error. */
  async function refused(statement: string, params: unknown[] = []): Promise<any> {
    await ll.sql('BEGIN');
    try {
      await ll.sql(statement, params);
      return null;
    } catch (err) {
      return err;
    } finally {
      await ll.sql('ROLLBACK');
    }
  }

  it('starts every tenant with an intact chain, signed at least every 5 entries', async () => {
    for (const n of names) {
      expect(await verify(tenants[n])).toMatchObject({ ok: true, entries: TOTAL });
      // AUDIT_CHECKPOINT_EVERY_ENTRIES=5 and no timer: however the entries were batched, no
      // more than 5 go unsigned, so the checkpoints are at 5, 10, 15, 20
      expect((await checkpoints(tenants[n])).map((c) => c.seq)).toEqual([5, 10, 15, 20]);
    }
  });

  describe('with the triggers on', () => {
    it('refuses UPDATE, DELETE and TRUNCATE on audit_entries', async () => {
      const t = tenants.triggers;
      const before = await entries(t);
      for (const statement of [
        `UPDATE audit_entries SET data = '{}' WHERE tenant_id = $1 AND seq = 3`,
        `UPDATE audit_entries SET hash = repeat('0', 64) WHERE tenant_id = $1`,
        `DELETE FROM audit_entries WHERE tenant_id = $1 AND seq = 3`,
        `DELETE FROM audit_entries WHERE tenant_id = $1`,
      ]) {
        const err = await refused(statement, [t.tenantId]);
        expect(err).not.toBeNull();
        expect(err.code).toBe('42501');
        expect(err.message).toMatch(/append-only/);
      }
      for (const statement of ['TRUNCATE audit_entries', 'TRUNCATE audit_entries CASCADE']) {
        const err = await refused(statement);
        expect(err?.code).toBe('42501');
      }
      expect(await entries(t)).toEqual(before);
      expect(await verify(t)).toMatchObject({ ok: true, entries: TOTAL });
    });

    it('refuses moving a chain head backwards or deleting it', async () => {
      const t = tenants.triggers;
      for (const statement of [
        `UPDATE audit_chain_heads SET seq = seq - 1 WHERE tenant_id = $1`,
        `UPDATE audit_chain_heads SET seq = 0, hash = repeat('0', 64) WHERE tenant_id = $1`,
        `DELETE FROM audit_chain_heads WHERE tenant_id = $1`,
      ]) {
        const err = await refused(statement, [t.tenantId]);
        expect(err?.code).toBe('42501');
      }
      expect((await refused('TRUNCATE audit_chain_heads'))?.code).toBe('42501');
      const [head] = await ll.sql(
        `SELECT seq::int AS seq FROM audit_chain_heads WHERE tenant_id = $1`,
        [t.tenantId],
      );
      expect(head.seq).toBe(TOTAL);
    });

    it('refuses changing or deleting checkpoints', async () => {
      const t = tenants.triggers;
      for (const statement of [
        `UPDATE audit_checkpoints SET hash = repeat('f', 64) WHERE tenant_id = $1`,
        `DELETE FROM audit_checkpoints WHERE tenant_id = $1`,
      ]) {
        expect((await refused(statement, [t.tenantId]))?.code).toBe('42501');
      }
      expect((await refused('TRUNCATE audit_checkpoints'))?.code).toBe('42501');
    });
  });

  describe('as a DBA with the triggers off', () => {
    it("catches one row's changed data as hash_mismatch at that seq", async () => {
      const t = tenants.data;
      await asDba(() =>
        ll.sql(
          `UPDATE audit_entries SET data = jsonb_set(data, '{amount}', '1') WHERE tenant_id = $1 AND seq = 9`,
          [t.tenantId],
        ),
      );
      expect((await entries(t))[8].data).toMatchObject({ amount: 1 });
      expect(await verify(t)).toEqual({
        ok: false,
        chain: 'main',
        entries: 9,
        firstBreak: { seq: 9, reason: 'hash_mismatch' },
      });
    });

    it('catches a deleted middle row as sequence_gap at that seq', async () => {
      const t = tenants.gap;
      await ll.sql('ALTER TABLE audit_entries DISABLE TRIGGER USER');
      try {
        const deleted = await ll.sql(
          `DELETE FROM audit_entries WHERE tenant_id = $1 AND seq = 11 RETURNING seq`,
          [t.tenantId],
        );
        expect(deleted).toHaveLength(1);
      } finally {
        await ll.sql('ALTER TABLE audit_entries ENABLE TRIGGER USER');
      }
      expect(await verify(t)).toEqual({
        ok: false,
        chain: 'main',
        entries: 10,
        firstBreak: { seq: 11, reason: 'sequence_gap' },
      });
      // the triggers are back on
      const err = await refused(`DELETE FROM audit_entries WHERE tenant_id = $1 AND seq = 12`, [
        t.tenantId,
      ]);
      expect(err?.code).toBe('42501');
    });

    it('catches rows deleted at the end of the chain as sequence_gap after the last one', async () => {
      const t = tenants.tail;
      await asDba(() =>
        ll.sql(`DELETE FROM audit_entries WHERE tenant_id = $1 AND seq > 20`, [t.tenantId]),
      );
      expect(await verify(t)).toEqual({
        ok: false,
        chain: 'main',
        entries: 20,
        firstBreak: { seq: 21, reason: 'sequence_gap' },
      });
    });

    it('catches a changed prev_hash alone as prev_hash_mismatch at that row (the link is checked first)', async () => {
      const t = tenants.prev;
      await asDba(() =>
        ll.sql(
          `UPDATE audit_entries SET prev_hash = repeat('a', 64) WHERE tenant_id = $1 AND seq = 7`,
          [t.tenantId],
        ),
      );
      expect(await verify(t)).toEqual({
        ok: false,
        chain: 'main',
        entries: 7,
        firstBreak: { seq: 7, reason: 'prev_hash_mismatch' },
      });
    });

    it('catches a row that is consistent in itself but not linked to the one before as prev_hash_mismatch', async () => {
      const t = tenants.link;
      const row = (await entries(t))[6];
      row.prevHash = 'a'.repeat(64);
      row.hash = entryHash(row);
      await asDba(() =>
        ll.sql(
          `UPDATE audit_entries SET prev_hash = $2, hash = $3 WHERE tenant_id = $1 AND seq = 7`,
          [t.tenantId, row.prevHash, row.hash],
        ),
      );
      expect(await verify(t)).toEqual({
        ok: false,
        chain: 'main',
        entries: 7,
        firstBreak: { seq: 7, reason: 'prev_hash_mismatch' },
      });
    });

    it('catches a chain rewritten with consistent hashes at the first signed checkpoint at or after the change', async () => {
      const t = tenants.rewrite;
      const signed = await checkpoints(t);
      // change a row just after the first checkpoint: that checkpoint still matches, the next one
      // (signed before the rewrite) does not
      const k = signed[0].seq + 1;
      const expectedBreak = signed.find((c) => c.seq >= k).seq;
      expect([k, expectedBreak]).toEqual([6, 10]);

      const chain = await entries(t);
      chain[k - 1].data = { ...chain[k - 1].data, amount: 0, note: 'rewritten' };
      let prev = chain[k - 2].hash;
      for (const e of chain.slice(k - 1)) {
        e.prevHash = prev;
        e.hash = entryHash(e);
        prev = e.hash;
      }
      await asDba(async () => {
        for (const e of chain.slice(k - 1)) {
          await ll.sql(
            `UPDATE audit_entries SET data = $3::jsonb, prev_hash = $4, hash = $5
             WHERE tenant_id = $1 AND chain = 'main' AND seq = $2`,
            [t.tenantId, e.seq, JSON.stringify(e.data), e.prevHash, e.hash],
          );
        }
        await ll.sql(
          `UPDATE audit_chain_heads SET hash = $2 WHERE tenant_id = $1 AND chain = 'main'`,
          [t.tenantId, prev],
        );
      });

      // every hash and link is consistent again...
      const rewritten = await entries(t);
      rewritten.forEach((e, i) => {
        expect(entryHash(e)).toBe(e.hash);
        expect(e.prevHash).toBe(i ? rewritten[i - 1].hash : '0'.repeat(64));
      });
      // ...but the checkpoint signed before the rewrite gives it away
      expect(await verify(t)).toEqual({
        ok: false,
        chain: 'main',
        entries: expectedBreak,
        firstBreak: { seq: expectedBreak, reason: 'checkpoint_mismatch' },
      });

      // the standalone verifier agrees: fine without checkpoints, caught with them
      const exported = await ll.request('GET', '/v1/audit/export', { key: t.apiKey });
      const exportFile = join(dir, 'rewrite.ndjson');
      writeFileSync(exportFile, exported.text);
      const keyFile = join(dir, 'rewrite.pem');
      writeFileSync(keyFile, (await ll.request('GET', '/v1/audit/public-key')).body.publicKey);
      const checkpointsFile = join(dir, 'rewrite.checkpoints.json');
      writeFileSync(checkpointsFile, JSON.stringify({ data: signed }));
      expect(await tool.verify(exportFile)).toMatchObject({ ok: true, entries: TOTAL });
      expect(await tool.verify(exportFile, keyFile, checkpointsFile)).toMatchObject({
        ok: false,
        firstBreak: { seq: expectedBreak, reason: 'checkpoint_mismatch' },
      });
    });

    it('catches a checkpoint row whose signature no longer matches as checkpoint_mismatch', async () => {
      const t = tenants.forged;
      const [first] = await checkpoints(t);
      await asDba(() =>
        ll.sql(
          `UPDATE audit_checkpoints SET signed_at = signed_at + interval '1 second'
           WHERE tenant_id = $1 AND seq = $2`,
          [t.tenantId, first.seq],
        ),
      );
      expect(await verify(t)).toEqual({
        ok: false,
        chain: 'main',
        entries: first.seq,
        firstBreak: { seq: first.seq, reason: 'checkpoint_mismatch' },
      });
    });

    it('answers (no 500) for a chain with more checkpoints than fit in one call (150,000)', async () => {
      // About 100 days of a busy chain at one timer checkpoint a minute. These rows claim the
      // chain goes on past its head, so the first break is the missing entry after it.
      const t = tenants.flood;
      await ll.sql(
        `INSERT INTO audit_checkpoints (tenant_id, chain, seq, hash, signed_at, signature)
         SELECT $1, 'main', s, repeat('0', 64), now(), 'AAAA' FROM generate_series($2::int, $3::int) s`,
        [t.tenantId, TOTAL + 1, TOTAL + 150000],
      );
      expect(await verify(t)).toEqual({
        ok: false,
        chain: 'main',
        entries: TOTAL,
        firstBreak: { seq: TOTAL + 1, reason: 'sequence_gap' },
      });
    });

    it('leaves the untouched tenant intact', async () => {
      expect(await verify(tenants.triggers)).toMatchObject({ ok: true, entries: TOTAL });
    });
  });
});
