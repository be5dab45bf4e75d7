import { generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import { AuditChainVerifier } from './audit-chain-verifier';
import { AuditEntryRow, GENESIS_HASH, hashEntry, fromRow } from './audit-entry';
import { AuditEntryRepository } from './audit-entry.repository';
import { CheckpointRepository } from './checkpoint.repository';
import { checkpointPayload, CheckpointService } from './checkpoint.service';
import { AuditSigningKeys } from './keys/audit-signing-keys';
import { keyIdOf, SigningKeyRing } from './keys/signing-key-ring';

const TENANT = '01a21677-6643-761a-be98-a244275e567d';
const pemOf = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }).toString();

interface Key {
  privateKey: KeyObject;
  pem: string;
  keyId: string;
}
function newKey(): Key {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, pem: pemOf(publicKey), keyId: keyIdOf(publicKey) };
}

function rehash(row: AuditEntryRow): AuditEntryRow {
  return { ...row, hash: hashEntry(row.prev_hash, fromRow(row)) };
}

/** A valid chain of n rows. */
function chainOf(n: number): AuditEntryRow[] {
  const rows: AuditEntryRow[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const row = rehash({
      tenant_id: TENANT,
      chain: 'main',
      seq,
      event_id: `01a21678-0030-707a-9f20-${String(seq).padStart(12, '0')}`,
      type: 'invoice.paid',
      subject: `invoice/${seq}`,
      actor: { type: 'user', id: 'u_42' },
      acting_as_tenant_id: null,
      data: { amount: seq },
      occurred_at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)),
      recorded_at: new Date(Date.UTC(2026, 0, 1, 0, 1, seq)),
      prev_hash: prev,
      hash: '',
    });
    rows.push(row);
    prev = row.hash;
  }
  return rows;
}

interface CheckpointRecord {
  tenant_id: string;
  chain: 'main';
  seq: number;
  hash: string;
  signed_at: Date;
  signature: string;
  key_id: string | null;
}

function checkpoint(row: AuditEntryRow, key: Key, keyId: string | null = key.keyId) {
  const signedAt = new Date(Date.UTC(2026, 0, 2, 0, 0, row.seq));
  const body = {
    tenantId: TENANT,
    chain: 'main' as const,
    seq: row.seq,
    hash: row.hash,
    signedAt: signedAt.toISOString(),
  };
  const signature = sign(null, checkpointPayload(body), key.privateKey).toString('base64');
  return {
    tenant_id: TENANT,
    chain: 'main' as const,
    seq: row.seq,
    hash: row.hash,
    signed_at: signedAt,
    signature,
    key_id: keyId,
  };
}

/** The verifier over an in-memory database: rows, head, checkpoints and the listed keys. */
function world(opts: {
  rows: AuditEntryRow[];
  head?: { seq: number; hash: string } | null;
  checkpoints?: CheckpointRecord[];
  keys?: Key[];
}) {
  const rows = opts.rows;
  const last = rows[rows.length - 1];
  const head = opts.head === undefined ? { seq: last.seq, hash: last.hash } : opts.head;
  const checkpoints = opts.checkpoints ?? [];
  const rangeQueries: [number, number][] = [];
  const repo = {
    bounds: () =>
      Promise.resolve({
        head,
        signedUpTo: checkpoints.reduce((m, c) => Math.max(m, c.seq), 0),
      }),
    page: (_t: string, _c: string, after: number, limit: number) =>
      Promise.resolve(rows.filter((r) => r.seq > after).slice(0, limit)),
  } as unknown as AuditEntryRepository;
  const db = {
    query: (_sql: string, params: unknown[]) => {
      const [, , after, upTo] = params as [string, string, number, number];
      rangeQueries.push([after, upTo]);
      return Promise.resolve(checkpoints.filter((c) => c.seq > after && c.seq <= upTo));
    },
  };
  const ring = new SigningKeyRing((opts.keys ?? []).map((k) => k.pem));
  const keys = { ring: () => Promise.resolve(ring) } as unknown as AuditSigningKeys;
  const service = new CheckpointService(
    db as never,
    new CheckpointRepository(db as never),
    keys,
    null as never,
    null as never,
    null as never,
  );
  const verifier = new AuditChainVerifier(repo, service, keys);
  return { verify: () => verifier.verify(TENANT, 'main'), rangeQueries };
}

const broken = (entries: number, seq: number, reason: string) => ({
  ok: false,
  chain: 'main',
  entries,
  firstBreak: { seq, reason },
});

describe('AuditChainVerifier', () => {
  const key = newKey();

  it('accepts an intact chain and reports its head', async () => {
    const rows = chainOf(30);
    const signed = [checkpoint(rows[9], key), checkpoint(rows[29], key)];
    expect(await world({ rows, checkpoints: signed, keys: [key] }).verify()).toEqual({
      ok: true,
      chain: 'main',
      entries: 30,
      head: { seq: 30, hash: rows[29].hash },
    });
  });

  it('reports changed content as hash_mismatch at that row', async () => {
    const rows = chainOf(10);
    rows[4] = { ...rows[4], data: { amount: 0 } };
    expect(await world({ rows }).verify()).toEqual(broken(5, 5, 'hash_mismatch'));
  });

  it('reports a changed prev_hash alone as prev_hash_mismatch at that row', async () => {
    const rows = chainOf(10);
    rows[6] = { ...rows[6], prev_hash: 'a'.repeat(64) };
    expect(await world({ rows }).verify()).toEqual(broken(7, 7, 'prev_hash_mismatch'));
  });

  it('reports a changed prev_hash of the first row as prev_hash_mismatch at seq 1', async () => {
    const rows = chainOf(3);
    rows[0] = rehash({ ...rows[0], prev_hash: 'b'.repeat(64) });
    expect(await world({ rows }).verify()).toEqual(broken(1, 1, 'prev_hash_mismatch'));
  });

  it('reports a row rewritten consistently in itself at the next row, whose link breaks', async () => {
    const rows = chainOf(10);
    rows[3] = rehash({ ...rows[3], data: { amount: 0 } });
    expect(await world({ rows }).verify()).toEqual(broken(5, 5, 'prev_hash_mismatch'));
  });

  it('reports a missing middle row as sequence_gap at its seq', async () => {
    const rows = chainOf(10);
    rows.splice(5, 1);
    const head = { seq: 10, hash: chainOf(10)[9].hash };
    expect(await world({ rows, head }).verify()).toEqual(broken(5, 6, 'sequence_gap'));
  });

  it('reports rows missing at the end (the head says more) as sequence_gap after the last', async () => {
    const full = chainOf(10);
    const rows = full.slice(0, 8);
    expect(await world({ rows, head: { seq: 10, hash: full[9].hash } }).verify()).toEqual(
      broken(8, 9, 'sequence_gap'),
    );
  });

  it('reports rows cut off with the head moved back, from a checkpoint past the head', async () => {
    const full = chainOf(10);
    const rows = full.slice(0, 8);
    const signed = [checkpoint(full[9], key)];
    expect(
      await world({
        rows,
        head: { seq: 8, hash: full[7].hash },
        checkpoints: signed,
        keys: [key],
      }).verify(),
    ).toEqual(broken(8, 9, 'sequence_gap'));
  });

  it('reports a tampered head row (the last entry) as hash_mismatch at its seq', async () => {
    const rows = chainOf(10);
    const head = { seq: 10, hash: rows[9].hash };
    rows[9] = { ...rows[9], subject: 'invoice/other' };
    expect(await world({ rows, head }).verify()).toEqual(broken(10, 10, 'hash_mismatch'));
  });

  it('reports a last entry rewritten consistently as hash_mismatch against the head record', async () => {
    const rows = chainOf(10);
    const head = { seq: 10, hash: rows[9].hash };
    rows[9] = rehash({ ...rows[9], data: { amount: -1 } });
    expect(await world({ rows, head }).verify()).toEqual(broken(10, 10, 'hash_mismatch'));
  });

  it('reports a chain rewritten with consistent hashes at the first checkpoint after the change', async () => {
    const original = chainOf(20);
    const signed = [5, 10, 15, 20].map((s) => checkpoint(original[s - 1], key));
    const rows = original.slice(0, 6);
    rows[5] = rehash({ ...rows[5], data: { amount: 0 } });
    let prev = rows[5].hash;
    for (const row of original.slice(6)) {
      const next = rehash({ ...row, prev_hash: prev });
      rows.push(next);
      prev = next.hash;
    }
    const head = { seq: 20, hash: prev };
    expect(await world({ rows, head, checkpoints: signed, keys: [key] }).verify()).toEqual(
      broken(10, 10, 'checkpoint_mismatch'),
    );
  });

  it('reports a checkpoint whose signature does not hold as checkpoint_mismatch', async () => {
    const rows = chainOf(10);
    const forged = { ...checkpoint(rows[4], key), signed_at: new Date(0) };
    expect(await world({ rows, checkpoints: [forged], keys: [key] }).verify()).toEqual(
      broken(5, 5, 'checkpoint_mismatch'),
    );
  });

  it('reports a checkpoint naming a key that never signed as checkpoint_mismatch', async () => {
    const rows = chainOf(10);
    const stranger = newKey();
    const signed = [checkpoint(rows[2], key), checkpoint(rows[6], stranger)];
    expect(await world({ rows, checkpoints: signed, keys: [key] }).verify()).toEqual(
      broken(7, 7, 'checkpoint_mismatch'),
    );
  });

  it('checks each checkpoint with the key its keyId names, across a key rotation', async () => {
    const rows = chainOf(20);
    const next = newKey();
    const signed = [checkpoint(rows[4], key), checkpoint(rows[9], key), checkpoint(rows[14], next)];
    expect(await world({ rows, checkpoints: signed, keys: [key, next] }).verify()).toMatchObject({
      ok: true,
      entries: 20,
    });
    // a keyId names one key: the other key's valid signature is not accepted in its place
    const misnamed = [{ ...checkpoint(rows[4], key), key_id: next.keyId }];
    expect(await world({ rows, checkpoints: misnamed, keys: [key, next] }).verify()).toEqual(
      broken(5, 5, 'checkpoint_mismatch'),
    );
  });

  it('accepts a legacy checkpoint (no keyId) signed by any listed key, and no other', async () => {
    const rows = chainOf(10);
    const next = newKey();
    const legacy = [checkpoint(rows[4], key, null)];
    expect(await world({ rows, checkpoints: legacy, keys: [next, key] }).verify()).toMatchObject({
      ok: true,
    });
    expect(await world({ rows, checkpoints: legacy, keys: [next] }).verify()).toEqual(
      broken(5, 5, 'checkpoint_mismatch'),
    );
  });

  it('reads only the checkpoints inside the range it checks, page by page', async () => {
    const rows = chainOf(12001);
    const head = { seq: 12000, hash: rows[11999].hash };
    const signed = [checkpoint(rows[999], key), checkpoint(rows[11999], key)];
    const w = world({ rows, head, checkpoints: signed, keys: [key] });
    expect(await w.verify()).toMatchObject({ ok: true, entries: 12000 });
    // the row appended after the bounds were read is left for the next verify
    expect(w.rangeQueries).toEqual([
      [0, 5000],
      [5000, 10000],
      [10000, 12000],
    ]);
  }, 60000);

  it('yields to the event loop while it hashes', async () => {
    const rows = chainOf(5000);
    let turns = 0;
    let running = true;
    const spin = () => {
      turns++;
      if (running) setImmediate(spin);
    };
    setImmediate(spin);
    const result = await world({ rows }).verify();
    running = false;
    expect(result).toMatchObject({ ok: true, entries: 5000 });
    // 5,000 rows in slices of 500: at least one turn of the loop between slices
    expect(turns).toBeGreaterThanOrEqual(9);
  });
});
