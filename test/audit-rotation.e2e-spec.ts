import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chainTool as tool } from './support/audit-chain';
import { Ledgerline, Tenant, event, sleep, waitFor } from './support/ledgerline';

function signingKey() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: tool.keyIdOf(publicKey),
  };
}

/**
 * Rotating LEDGERLINE_SIGNING_KEY keeps history verifiable (every key that signed stays listed
 * and each checkpoint names its key), and verify is bounded: capped per process, and never
 * holding the event loop while it hashes.
 */
describe('audit signing key rotation and bounded verify', () => {
  const first = signingKey();
  const second = signingKey();
  let ll: Ledgerline;
  let t: Tenant;
  let dir: string;

  beforeAll(async () => {
    ll = await Ledgerline.start({
      env: {
        LEDGERLINE_SIGNING_KEY: first.pem,
        AUDIT_CHECKPOINT_EVERY_ENTRIES: '3',
        AUDIT_CHECKPOINT_INTERVAL_MS: '300',
      },
    });
    dir = mkdtempSync(join(tmpdir(), 'audit-rotation-'));
    t = await ll.createTenant('rotation');
  });
  afterAll(async () => {
    await ll?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const get = (path: string, tenant = t) => ll.request('GET', path, { key: tenant.apiKey });

  async function publish(n: number, tenant = t): Promise<void> {
    const events = Array.from({ length: n }, (_, i) => event({ data: { i } }));
    const res = await ll.request('POST', '/v1/events/batch', {
      key: tenant.apiKey,
      body: { events },
    });
    expect(res.status).toBe(202);
  }

  async function checkpointedHead(tenant = t): Promise<any[]> {
    return waitFor('the head signed', async () => {
      const [head] = await ll.sql(
        `SELECT seq::int AS seq FROM audit_chain_heads WHERE tenant_id = $1 AND chain = 'main'`,
        [tenant.tenantId],
      );
      const [{ n }] = await ll.sql(
        `SELECT count(*)::int AS n FROM events WHERE tenant_id = $1 AND type <> 'audit.checkpoint'`,
        [tenant.tenantId],
      );
      const list = (await get('/v1/audit/checkpoints?limit=500', tenant)).body.data as any[];
      return head?.seq === n && list.some((c) => c.seq === n) && list;
    });
  }

  /** Restarts API and worker with another signing key. */
  async function restartWith(key: string): Promise<void> {
    const procs = [...ll.apis, ...ll.workers];
    await Promise.all(procs.map((p) => ll.stopProc(p)));
    ll.apis.splice(0);
    ll.workers.splice(0);
    await Promise.all([
      ll.startApi({ LEDGERLINE_SIGNING_KEY: key }),
      ll.startWorker({ LEDGERLINE_SIGNING_KEY: key }),
    ]);
  }

  it('verifies a chain whose checkpoints were signed by two keys, before and after a rotation', async () => {
    await publish(5);
    const before = await checkpointedHead();
    expect(new Set(before.map((c) => c.keyId))).toEqual(new Set([first.keyId]));

    await restartWith(second.pem);
    await publish(5);
    const all = await checkpointedHead();
    const byKey = (keyId: string) => all.filter((c) => c.keyId === keyId).map((c) => c.seq);
    expect(byKey(first.keyId)).toEqual(before.map((c) => c.seq));
    expect(byKey(second.keyId).length).toBeGreaterThan(0);
    expect(byKey(first.keyId).length + byKey(second.keyId).length).toBe(all.length);

    const current = await ll.request('GET', '/v1/audit/public-key');
    expect(current.body).toEqual({ publicKey: second.publicPem, keyId: second.keyId });
    const listed = await get('/v1/audit/public-keys');
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((k: any) => [k.keyId, k.publicKey])).toEqual([
      [first.keyId, first.publicPem],
      [second.keyId, second.publicPem],
    ]);
    const firstUse = listed.body.data.map((k: any) => Date.parse(k.firstUsedAt));
    expect(firstUse[0]).toBeLessThanOrEqual(Date.parse(before[0].signedAt));
    expect(firstUse[1]).toBeGreaterThan(Date.parse(before[before.length - 1].signedAt));

    const verified = await get('/v1/audit/verify');
    expect(verified.body).toEqual({
      ok: true,
      chain: 'main',
      entries: all[all.length - 1].seq,
      head: { seq: all[all.length - 1].seq, hash: all[all.length - 1].hash },
    });
    // the CLI, with the new key only, agrees
    const cli = JSON.parse(
      await ll.cliWith(
        { LEDGERLINE_SIGNING_KEY: second.pem },
        'audit',
        'verify',
        '--tenant',
        t.tenantId,
      ),
    );
    expect(cli).toEqual(verified.body);

    // the standalone verifier: fine with every listed key, caught with the current key alone
    const exportFile = join(dir, 'chain.ndjson');
    writeFileSync(exportFile, (await get('/v1/audit/export')).text);
    const keysFile = join(dir, 'keys.json');
    writeFileSync(keysFile, JSON.stringify(listed.body));
    const currentFile = join(dir, 'current.pem');
    writeFileSync(currentFile, current.body.publicKey);
    const checkpointsFile = join(dir, 'checkpoints.json');
    writeFileSync(checkpointsFile, JSON.stringify({ data: all }));
    expect(await tool.verify(exportFile, keysFile, checkpointsFile)).toEqual({
      ok: true,
      entries: verified.body.entries,
      head: verified.body.head,
    });
    expect(await tool.verify(exportFile, currentFile, checkpointsFile)).toMatchObject({
      ok: false,
      firstBreak: { seq: before[0].seq, reason: 'checkpoint_mismatch' },
    });
  });

  describe('a long chain', () => {
    let big: Tenant;
    const LENGTH = 20000;

    beforeAll(async () => {
      big = await ll.createTenant('long');
      const [head] = await checkpointedHead(big).then(async () =>
        ll.sql(
          `SELECT seq::int AS seq, hash FROM audit_chain_heads WHERE tenant_id = $1 AND chain = 'main'`,
          [big.tenantId],
        ),
      );
      // Entries appended by hand, valid and linked, continuing the tenant's chain.
      let prevHash = head.hash as string;
      const rows = [];
      for (let seq = head.seq + 1; seq <= LENGTH; seq++) {
        const entry = {
          seq,
          chain: 'main',
          tenantId: big.tenantId,
          eventId: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
          type: 'invoice.paid',
          subject: `invoice/${seq}`,
          actor: { type: 'user', id: 'u_42' },
          actingAsTenantId: null,
          data: { amount: seq, currency: 'EUR', note: 'x'.repeat(64) },
          occurredAt: '2026-01-01T00:00:00.000Z',
          recordedAt: '2026-01-01T00:00:01.000Z',
          prevHash,
        };
        const hash = tool.entryHash(entry);
        rows.push({ ...entry, hash });
        prevHash = hash;
      }
      await ll.sql(
        `INSERT INTO audit_entries (tenant_id, chain, seq, event_id, type, subject, actor, acting_as_tenant_id,
                                    data, occurred_at, recorded_at, prev_hash, hash)
         SELECT "tenantId", chain, seq, "eventId", type, subject, actor, "actingAsTenantId",
                data, "occurredAt", "recordedAt", "prevHash", hash
         FROM jsonb_to_recordset($1::jsonb) AS e("tenantId" uuid, chain text, seq bigint, "eventId" uuid,
              type text, subject text, actor jsonb, "actingAsTenantId" uuid, data jsonb,
              "occurredAt" timestamptz, "recordedAt" timestamptz, "prevHash" text, hash text)`,
        [JSON.stringify(rows)],
      );
      await ll.sql(
        `UPDATE audit_chain_heads SET seq = $2, hash = $3 WHERE tenant_id = $1 AND chain = 'main'`,
        [big.tenantId, LENGTH, prevHash],
      );
    });

    it('answers other requests while a verify hashes', async () => {
      const done: string[] = [];
      const verify = get('/v1/audit/verify', big).then((res) => {
        done.push('verify');
        return res;
      });
      await sleep(150);
      const live = await fetch(`${ll.baseUrl}/livez`);
      done.push('livez');
      expect(live.status).toBe(200);
      const res = await verify;
      expect(res.body).toMatchObject({ ok: true, entries: LENGTH });
      expect(done).toEqual(['livez', 'verify']);
    });

    it('caps concurrent verifies per process: over the cap is 503 problem+json with Retry-After', async () => {
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => get('/v1/audit/verify', big)),
      );
      const ok = answers.filter((a) => a.status === 200);
      const busy = answers.filter((a) => a.status === 503);
      expect([ok.length, busy.length]).toEqual([2, 4]);
      for (const a of ok) expect(a.body).toMatchObject({ ok: true, entries: LENGTH });
      for (const a of busy) {
        expect(a.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(a.headers.get('retry-after')).toBe('5');
        expect(a.body.code).toBe('unavailable');
      }
      // the slots are given back: the next verify runs
      expect((await get('/v1/audit/verify', big)).status).toBe(200);
    });
  });
});
