import canonicalize from 'canonicalize';
import { generateKeyPairSync, KeyObject, randomBytes, sign } from 'node:crypto';
import { SecretBox } from '@app/security';
import { Ledgerline, Tenant, event, waitFor } from './support/ledgerline';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const tool = require('./tools/verify-chain.js') as {
  entryHash(entry: object): string;
  keyIdOf(key: KeyObject): string;
};

function signingKey() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKey,
    pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: tool.keyIdOf(publicKey),
  };
}
type SigningKey = ReturnType<typeof signingKey>;

/** An endorsement as the service makes it, under a given master key (SecretBox, owner-bound). */
const endorsement = (master: string, keyId: string) =>
  new SecretBox({ current: Buffer.from(master, 'base64') }).seal(
    `audit-signing-key:${keyId}`,
    `audit_signing_key/${keyId}`,
  );

/**
 * Key rotation lists every key that ever signed in audit_signing_keys, a table the database owner
 * can write. A listed key counts only with the service's endorsement, sealed under the master key:
 * a DBA who lists a key of their own, rewrites the chain and re-signs its checkpoints is caught;
 * a master key rotation followed by `secrets rekey` keeps a rotated chain verifying.
 */
describe('audit signing key trust', () => {
  const first = signingKey();
  const second = signingKey();
  const master1 = randomBytes(32).toString('base64');
  const master2 = randomBytes(32).toString('base64');
  /** Where the rotation test leaves the service: the second key, the new master key alone. */
  const settled = { LEDGERLINE_SIGNING_KEY: second.pem, LEDGERLINE_MASTER_KEY: master2 };
  let ll: Ledgerline;
  let dbaTenant: Tenant;
  let rotated: Tenant;

  beforeAll(async () => {
    ll = await Ledgerline.start({
      env: {
        LEDGERLINE_SIGNING_KEY: first.pem,
        LEDGERLINE_MASTER_KEY: master1,
        AUDIT_CHECKPOINT_EVERY_ENTRIES: '5',
        AUDIT_CHECKPOINT_INTERVAL_MS: '300',
      },
    });
    [dbaTenant, rotated] = await Promise.all([ll.createTenant('dba'), ll.createTenant('rotated')]);
  });
  afterAll(async () => {
    await ll?.stop();
  });

  const get = (path: string, t: Tenant) => ll.request('GET', path, { key: t.apiKey });
  const verify = async (t: Tenant) => {
    const res = await get('/v1/audit/verify?chain=main', t);
    expect(res.status).toBe(200);
    return res.body;
  };

  async function publish(t: Tenant, n: number): Promise<void> {
    const events = Array.from({ length: n }, (_, i) => event({ data: { i, amount: 100 + i } }));
    const res = await ll.request('POST', '/v1/events/batch', { key: t.apiKey, body: { events } });
    expect(res.status).toBe(202);
  }

  /** Waits until every event of the tenant is in its chain and the head is signed. */
  async function checkpointedHead(t: Tenant): Promise<any[]> {
    return waitFor('the head signed', async () => {
      const [head] = await ll.sql(
        `SELECT seq::int AS seq FROM audit_chain_heads WHERE tenant_id = $1 AND chain = 'main'`,
        [t.tenantId],
      );
      const [{ n }] = await ll.sql(
        `SELECT count(*)::int AS n FROM events WHERE tenant_id = $1 AND type <> 'audit.checkpoint'`,
        [t.tenantId],
      );
      const list = (await get('/v1/audit/checkpoints?limit=500', t)).body.data as any[];
      return head?.seq === n && list.some((c) => c.seq === n) && list;
    });
  }

  async function restart(env: Record<string, string>): Promise<void> {
    // Every old process is gone before a new one starts; the stops and the boots run side by side.
    await Promise.all([...ll.apis, ...ll.workers].map((p) => ll.stopProc(p)));
    ll.apis.splice(0);
    ll.workers.splice(0);
    await Promise.all([ll.startApi(env), ll.startWorker(env)]);
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

  /** Changes entry k, recomputes every hash after it and re-signs the checkpoints from k on. */
  async function rewriteAndResign(t: Tenant, k: number, key: SigningKey): Promise<number> {
    const rows = await ll.sql(
      `SELECT * FROM audit_entries WHERE tenant_id = $1 AND chain = 'main' ORDER BY seq`,
      [t.tenantId],
    );
    const chain = rows.map((r) => ({
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
      prevHash: r.prev_hash as string,
      hash: r.hash as string,
    }));
    chain[k - 1].data = { ...chain[k - 1].data, amount: 0, note: 'rewritten' };
    let prev = chain[k - 2].hash;
    for (const e of chain.slice(k - 1)) {
      e.prevHash = prev;
      e.hash = tool.entryHash(e);
      prev = e.hash;
    }
    const hashAt = new Map(chain.map((e) => [e.seq, e.hash]));
    const checkpoints = (await get('/v1/audit/checkpoints?limit=500', t)).body.data as any[];
    const resigned = checkpoints.filter((c) => c.seq >= k);
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
      for (const c of resigned) {
        const body = { tenantId: c.tenantId, chain: c.chain, seq: c.seq, hash: hashAt.get(c.seq) };
        const payload = Buffer.from(canonicalize({ ...body, signedAt: c.signedAt })!, 'utf8');
        await ll.sql(
          `UPDATE audit_checkpoints SET hash = $3, signature = $4, key_id = $5
           WHERE tenant_id = $1 AND chain = 'main' AND seq = $2`,
          [
            t.tenantId,
            c.seq,
            body.hash,
            sign(null, payload, key.privateKey).toString('base64'),
            key.keyId,
          ],
        );
      }
    });
    return resigned[0].seq;
  }

  it('keeps a chain signed by two keys verifying across a master key rotation and rekey', async () => {
    await publish(rotated, 6);
    const byFirst = await checkpointedHead(rotated);
    await restart({ LEDGERLINE_SIGNING_KEY: second.pem });
    await publish(rotated, 6);
    const all = await checkpointedHead(rotated);
    const keyIds = new Set(all.map((c) => c.keyId));
    expect(keyIds).toEqual(new Set([first.keyId, second.keyId]));
    const intact = { ok: true, chain: 'main', entries: all.at(-1).seq, head: expect.anything() };
    expect(await verify(rotated)).toEqual(intact);

    // New master key, the old one still opening: every endorsement still holds.
    const rotating = {
      LEDGERLINE_SIGNING_KEY: second.pem,
      LEDGERLINE_MASTER_KEY: master2,
      LEDGERLINE_MASTER_KEY_PREVIOUS: master1,
    };
    await restart(rotating);
    expect(await verify(rotated)).toEqual(intact);
    // Without rekey, dropping the previous key would leave the first key's checkpoints unproven.
    const newOnly = { ...rotating, LEDGERLINE_MASTER_KEY_PREVIOUS: '' };
    const cliVerify = (env: Record<string, string>) =>
      ll
        .cliWith(env, 'audit', 'verify', '--tenant', rotated.tenantId)
        .catch((err: { stdout: string }) => err.stdout)
        .then((out) => JSON.parse(out.trim().split('\n').pop()!));
    expect(await cliVerify(newOnly)).toMatchObject({
      ok: false,
      firstBreak: { seq: byFirst[0].seq, reason: 'checkpoint_mismatch' },
    });

    const endorsements = async () =>
      (
        await ll.sql(
          `SELECT key_id, endorsement FROM audit_signing_keys_endorsements WHERE key_id = ANY($1)`,
          [[first.keyId, second.keyId]],
        )
      ).map((r) => `${r.key_id}:${r.endorsement.split('.')[1]}`);
    const before = await endorsements();
    const out = await ll.cliWith(rotating, 'secrets', 'rekey');
    const { rekeyed } = JSON.parse(out.trim().split('\n').pop()!) as { rekeyed: number };
    // the first key at least (the second is endorsed anew too if it signed under master2 already)
    expect(rekeyed).toBeGreaterThanOrEqual(1);
    const newKeyId = new SecretBox({ current: Buffer.from(master2, 'base64') }).currentKeyId;
    expect(before).not.toContain(`${first.keyId}:${newKeyId}`);
    // appended, not replaced: each key now has one endorsement under the new master key too
    const after = await endorsements();
    expect(after).toEqual(expect.arrayContaining(before));
    expect(after.filter((e) => e.endsWith(`:${newKeyId}`)).sort()).toEqual(
      [`${first.keyId}:${newKeyId}`, `${second.keyId}:${newKeyId}`].sort(),
    );
    expect(JSON.parse((await ll.cliWith(rotating, 'secrets', 'rekey')).trim())).toEqual({
      rekeyed: 0,
    });

    await restart(settled);
    expect(await verify(rotated)).toEqual(intact);
    expect(await cliVerify(newOnly)).toEqual({ ...intact, head: (await verify(rotated)).head });
    const listed = await get('/v1/audit/public-keys', rotated);
    expect(listed.body.data.map((key: any) => key.keyId)).toEqual([first.keyId, second.keyId]);
  });

  it('catches a DBA who lists a key of their own, rewrites the chain and re-signs checkpoints with it', async () => {
    // (after the rotation above: the service signs with the second key, under master2)
    await publish(dbaTenant, 10);
    const before = await checkpointedHead(dbaTenant);
    expect(await verify(dbaTenant)).toMatchObject({ ok: true, entries: before.at(-1).seq });

    const dba = signingKey();
    const [secondEndorsement] = await ll.sql(
      `SELECT endorsement FROM audit_signing_keys_endorsements WHERE key_id = $1`,
      [second.keyId],
    );
    expect(secondEndorsement.endorsement).toMatch(/^v2\./);
    const ownMaster = randomBytes(32).toString('base64');
    // As the database owner: a key of their own, with the endorsements they can make: one sealed
    // under a master key of their own, and the service's endorsement of another key copied over.
    await ll.sql(`INSERT INTO audit_signing_keys (key_id, public_key_pem) VALUES ($1, $2)`, [
      dba.keyId,
      dba.publicPem,
    ]);
    for (const e of [endorsement(ownMaster, dba.keyId), secondEndorsement.endorsement]) {
      await ll.sql(
        `INSERT INTO audit_signing_keys_endorsements (key_id, endorsement) VALUES ($1, $2)`,
        [dba.keyId, e],
      );
    }
    const k = before[0].seq + 1;
    const firstResigned = await rewriteAndResign(dbaTenant, k, dba);
    expect(firstResigned).toBe(before[1].seq);

    expect(await verify(dbaTenant)).toEqual({
      ok: false,
      chain: 'main',
      entries: firstResigned,
      firstBreak: { seq: firstResigned, reason: 'checkpoint_mismatch' },
    });
    const listed = await get('/v1/audit/public-keys', dbaTenant);
    expect(listed.body.data.map((key: any) => key.keyId)).toEqual([first.keyId, second.keyId]);
    // rekey vouches only for keys the service endorsed: the DBA's key gets nothing from it
    expect(JSON.parse((await ll.cliWith(settled, 'secrets', 'rekey')).trim())).toEqual({
      rekeyed: 0,
    });
    expect(await verify(dbaTenant)).toMatchObject({ ok: false });

    // The control: the rewrite is consistent, so only the missing endorsement gave it away. An
    // endorsement under the service's own master key (which the DBA does not hold) passes it.
    await ll.sql(
      `INSERT INTO audit_signing_keys_endorsements (key_id, endorsement) VALUES ($1, $2)`,
      [dba.keyId, endorsement(master2, dba.keyId)],
    );
    expect(await verify(dbaTenant)).toMatchObject({ ok: true, entries: before.at(-1).seq });
  });
});
