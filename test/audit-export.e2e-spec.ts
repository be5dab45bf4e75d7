import canonicalize from 'canonicalize';
import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditClient } from './support/audit-api';
import { chainTool } from './support/audit-chain';
import { Ledgerline, Tenant, event } from './support/ledgerline';

/** What an auditor takes away: the NDJSON export the standalone verifier accepts (and catches altered), the signed checkpoints, and the CLI's verify and export. */
describe('audit: export, signed checkpoints and the CLI', () => {
  let ll: Ledgerline;
  let dir: string;
  let audit: AuditClient;

  /** A tenant of its own for every group of tests, created up front (the CLI is slow to start). */
  const tenants: Record<string, Tenant> = {};
  const tenantNames = ['exporter', 'signer', 'cli-ok', 'cli-tampered'];

  beforeAll(async () => {
    ll = await Ledgerline.start({ env: { AUDIT_CHECKPOINT_INTERVAL_MS: '500' } });
    dir = mkdtempSync(join(tmpdir(), 'audit-export-'));
    audit = new AuditClient(ll, dir);
    const created = await Promise.all(tenantNames.map((n) => ll.createTenant(n)));
    tenantNames.forEach((n, i) => (tenants[n] = created[i]));
  });
  afterAll(async () => {
    await ll?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('export', () => {
    let t: Tenant;
    let total: number;

    beforeAll(async () => {
      t = tenants['exporter'];
      await audit.publishBatch(
        t,
        Array.from({ length: 20 }, (_, i) =>
          event({ data: { i, note: `entry ${i} for ops${i}@example.com`, ünïcødé: 'ß∂ƒ 😀' } }),
        ),
      );
      total = await audit.caughtUp(t);
      expect(total).toBe(22);
      await audit.waitForCheckpoint(t, total);
    });

    it('streams NDJSON in seq order that the standalone verifier accepts, with key and checkpoints', async () => {
      const res = await audit.get(t, '/v1/audit/export?chain=main');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
      expect(res.text.endsWith('\n')).toBe(true);
      const lines = res.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines.map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(lines.reverse()).toEqual(await audit.allEntries(t));

      const files = await audit.auditorFiles(t, 'exporter', res.text);
      expect(files.checkpoints.length).toBeGreaterThan(0);
      const head = (await audit.get(t, '/v1/audit/verify')).body.head;
      expect(
        await chainTool.verify(files.exportFile, files.keyFile, files.checkpointsFile),
      ).toEqual({
        ok: true,
        entries: total,
        head,
      });
      expect(await chainTool.verify(files.exportFile)).toMatchObject({ ok: true, entries: total });
    });

    it('is caught by the standalone verifier when a line or a checkpoint is altered', async () => {
      const files = await audit.auditorFiles(t, 'exporter-tampered');
      const lines = files.exported.trim().split('\n');
      const edited = JSON.parse(lines[4]);
      edited.data = { ...edited.data, i: 999 };
      lines[4] = JSON.stringify(edited);
      writeFileSync(files.exportFile, `${lines.join('\n')}\n`);
      expect(await chainTool.verify(files.exportFile)).toMatchObject({
        ok: false,
        firstBreak: { seq: 5, reason: 'hash_mismatch' },
      });

      const original = await audit.auditorFiles(t, 'exporter-forged');
      const forged = original.checkpoints.map((c) => ({ ...c, hash: 'f'.repeat(64) }));
      writeFileSync(original.checkpointsFile, JSON.stringify({ data: forged }));
      expect(
        await chainTool.verify(original.exportFile, original.keyFile, original.checkpointsFile),
      ).toMatchObject({
        ok: false,
        firstBreak: { seq: original.checkpoints[0].seq, reason: 'checkpoint_mismatch' },
      });
    });

    it('exports a seq range with fromSeq and toSeq', async () => {
      const full = (await audit.get(t, '/v1/audit/export')).text.trim().split('\n');
      const range = await audit.get(t, '/v1/audit/export?chain=main&fromSeq=3&toSeq=7');
      expect(range.status).toBe(200);
      expect(range.text.trim().split('\n')).toEqual(full.slice(2, 7));
      const tail = await audit.get(t, `/v1/audit/export?fromSeq=${total - 1}`);
      expect(tail.text.trim().split('\n')).toEqual(full.slice(total - 2));
      const head = await audit.get(t, '/v1/audit/export?toSeq=2');
      expect(head.text.trim().split('\n')).toEqual(full.slice(0, 2));
      const none = await audit.get(t, `/v1/audit/export?fromSeq=${total + 1}`);
      expect(none.status).toBe(200);
      expect(none.text).toBe('');
      for (const qs of ['fromSeq=0', 'fromSeq=abc', 'toSeq=-1']) {
        const bad = await audit.get(t, `/v1/audit/export?${qs}`);
        expect(bad.status).toBe(400);
        expect(bad.body.code).toBe('validation_failed');
      }
    });
  });

  describe('signed checkpoints', () => {
    let t: Tenant;

    beforeAll(async () => {
      t = tenants['signer'];
      await audit.publish(t, event());
      await audit.caughtUp(t);
    });

    it('signs the chain head with the service key (JCS of {tenantId, chain, seq, hash, signedAt}) and names it by keyId', async () => {
      const checkpoints = await audit.waitForCheckpoint(t, 3);
      const key = await ll.request('GET', '/v1/audit/public-key');
      expect(key.status).toBe(200);
      expect(Object.keys(key.body).sort()).toEqual(['keyId', 'publicKey']);
      expect(key.body.publicKey).toMatch(/^-----BEGIN PUBLIC KEY-----/);
      const publicKey = createPublicKey(key.body.publicKey);
      expect(publicKey.asymmetricKeyType).toBe('ed25519');
      // keyId: lowercase hex SHA-256 of the SPKI DER
      const keyId = createHash('sha256')
        .update(publicKey.export({ type: 'spki', format: 'der' }))
        .digest('hex');
      expect(key.body.keyId).toBe(keyId);
      const listed = await ll.request('GET', '/v1/audit/public-keys', { key: t.apiKey });
      expect(listed.status).toBe(200);
      expect(listed.body.data).toEqual([
        { keyId, publicKey: key.body.publicKey, firstUsedAt: expect.any(String) },
      ]);
      expect(Date.parse(listed.body.data[0].firstUsedAt)).toBeLessThanOrEqual(
        Date.parse(checkpoints[0].signedAt),
      );
      for (const c of checkpoints) {
        expect(Object.keys(c).sort()).toEqual([
          'chain',
          'hash',
          'keyId',
          'seq',
          'signature',
          'signedAt',
          'tenantId',
        ]);
        expect(c).toMatchObject({ tenantId: t.tenantId, chain: 'main', keyId });
        expect(c.signedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        const payload = (body: Record<string, unknown>) => Buffer.from(canonicalize(body)!, 'utf8');
        const signature = Buffer.from(c.signature, 'base64');
        const { signature: _s, keyId: _k, ...unsigned } = c;
        expect(verifySignature(null, payload(unsigned), publicKey, signature)).toBe(true);
        expect(
          verifySignature(null, payload({ ...unsigned, seq: c.seq + 1 }), publicKey, signature),
        ).toBe(false);
        const entry = await audit.get(t, `/v1/audit/entries/${c.seq}`);
        expect(entry.body.hash).toBe(c.hash);
      }
      const events = await ll.sql<{ data: any }>(
        `SELECT data FROM events WHERE tenant_id = $1 AND type = 'audit.checkpoint' ORDER BY position`,
        [t.tenantId],
      );
      expect(events.map((e) => e.data)).toEqual(checkpoints);
    });
  });

  describe('CLI', () => {
    it('verifies a chain (exit 0) and exports one the standalone verifier accepts', async () => {
      const t = tenants['cli-ok'];
      await audit.publishBatch(t, [event(), event({ data: { who: 'eve@example.com' } })]);
      const total = await audit.caughtUp(t);
      await audit.waitForCheckpoint(t, total);
      const id = ['--tenant', t.tenantId];
      const [verified, exported, range] = await Promise.all([
        ll.cli('audit', 'verify', ...id),
        ll.cli('audit', 'export', ...id),
        ll.cli('audit', 'export', ...id, '--from-seq', '2', '--to-seq', '3'),
      ]);
      const out = JSON.parse(verified);
      expect(out).toEqual((await audit.get(t, '/v1/audit/verify')).body);
      expect(out).toMatchObject({ ok: true, chain: 'main', entries: total });

      expect(exported).not.toContain('eve@example.com');
      expect(exported).toBe((await audit.get(t, '/v1/audit/export')).text);
      const files = await audit.auditorFiles(t, 'cli', exported);
      expect(
        await chainTool.verify(files.exportFile, files.keyFile, files.checkpointsFile),
      ).toEqual({
        ok: true,
        entries: total,
        head: out.head,
      });
      expect(range).toBe((await audit.get(t, '/v1/audit/export?fromSeq=2&toSeq=3')).text);
      expect(
        range
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).seq),
      ).toEqual([2, 3]);
    });

    it('exits 1 with the first break after tampering', async () => {
      const t = tenants['cli-tampered'];
      await audit.publishBatch(t, [event(), event(), event()]);
      expect(await audit.caughtUp(t)).toBe(5);
      await ll.sql('SET session_replication_role = replica');
      try {
        await ll.sql(
          `UPDATE audit_entries SET data = '{"amount": 1}' WHERE tenant_id = $1 AND seq = 4`,
          [t.tenantId],
        );
      } finally {
        await ll.sql('SET session_replication_role = DEFAULT');
      }
      const err = await ll.cli('audit', 'verify', '--tenant', t.tenantId).then(
        () => null,
        (e: { code?: number; stdout?: string }) => e,
      );
      expect(err).not.toBeNull();
      expect(err!.code).toBe(1);
      expect(JSON.parse(err!.stdout!)).toEqual({
        ok: false,
        chain: 'main',
        entries: 4,
        firstBreak: { seq: 4, reason: 'hash_mismatch' },
      });
      expect((await audit.get(t, '/v1/audit/verify')).body).toEqual(JSON.parse(err!.stdout!));
    });

    it('refuses a missing or malformed tenant or chain with exit 2', async () => {
      const errors = await Promise.all(
        [
          [],
          ['--tenant', 'nope'],
          ['--tenant', tenants['cli-ok'].tenantId, '--chain', 'bogus'],
        ].map((args) =>
          ll.cli('audit', 'verify', ...args).then(
            () => null,
            (e: { code?: number }) => e,
          ),
        ),
      );
      expect(errors.map((e) => e?.code)).toEqual([2, 2, 2]);
    });
  });
});
