import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerlineConfig } from '@app/platform';
import {
  AuditChainVerifier,
  AuditEntryRepository,
  AuditModule,
  CheckpointService,
  GENESIS_HASH,
  fromRow,
  hashEntry,
} from '@app/audit';
import { AuditSigningKeys } from '@app/audit/keys/audit-signing-keys';
import { MediumApp } from './support/medium-app';
import { chainTool } from '../support/audit-chain';

const N = 300;

interface Row {
  seq: number;
  eventId: string;
  data: Record<string, unknown>;
  occurredAt: string;
  recordedAt: string;
  prevHash: string;
  hash: string;
}

function body(tenantId: string, r: Row) {
  return {
    seq: r.seq,
    chain: 'main' as const,
    tenantId,
    eventId: r.eventId,
    type: 'invoice.paid',
    subject: `invoice/${r.seq}`,
    actor: { type: 'user', id: 'u_42' },
    actingAsTenantId: null,
    data: r.data,
    occurredAt: r.occurredAt,
    recordedAt: r.recordedAt,
  };
}

function chainOf(tenantId: string, n: number): Row[] {
  const rows: Row[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const r: Row = {
      seq,
      eventId: randomUUID(),
      data: { amount: seq, note: 'x'.repeat(seq % 7), nested: { b: [1, 'two'], a: null } },
      occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
      recordedAt: new Date(Date.UTC(2026, 0, 1, 0, 1, seq, 123)).toISOString(),
      prevHash: prev,
      hash: '',
    };
    r.hash = hashEntry(prev, body(tenantId, r));
    rows.push(r);
    prev = r.hash;
  }
  return rows;
}

const rehash = (tenantId: string, r: Row): Row => ({
  ...r,
  hash: hashEntry(r.prevHash, body(tenantId, r)),
});

/**
 * The parallel verify (ranges on worker threads, seams checked in order) against the walk over
 * the same rows in PostgreSQL: for every kind of break, at a seam and inside a range, both must
 * report the same result. 300 entries make ranges of 5, so seams are everywhere.
 */
describe('audit verify in parallel ranges (medium: real PostgreSQL, worker threads)', () => {
  let m: MediumApp;
  let walk: AuditChainVerifier;
  let parallel: (threads: number) => AuditChainVerifier;

  beforeAll(async () => {
    m = await MediumApp.start([AuditModule]);
    const config = m.get(LedgerlineConfig);
    const make = (over: Partial<LedgerlineConfig>) =>
      new AuditChainVerifier(
        m.get(AuditEntryRepository),
        m.get(CheckpointService),
        m.get(AuditSigningKeys),
        undefined,
        Object.assign(Object.create(config) as LedgerlineConfig, over),
      );
    walk = make({ AUDIT_VERIFY_PARALLEL_FROM: Number.MAX_SAFE_INTEGER });
    parallel = (threads) => make({ AUDIT_VERIFY_PARALLEL_FROM: 1, AUDIT_VERIFY_THREADS: threads });
  });
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'audit-verify-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterAll(() => m?.stop());

  /** The tenant's rows as the export writes them. */
  async function exportFile(tenantId: string): Promise<string> {
    const rows = await m.get(AuditEntryRepository).page(tenantId, 'main', 0, 100000);
    const file = join(dir, `${tenantId}.ndjson`);
    writeFileSync(file, rows.map((r) => `${JSON.stringify(fromRow(r))}\n`).join(''));
    return file;
  }

  async function store(
    tenantId: string,
    rows: Row[],
    head: { seq: number; hash: string } | null,
    checkpoints: { seq: number; hash: string }[] = [],
  ): Promise<string> {
    const withTenant = rows.map((r) => ({
      ...body(tenantId, r),
      prevHash: r.prevHash,
      hash: r.hash,
    }));
    await m.db.query(
      `INSERT INTO audit_entries (tenant_id, chain, seq, event_id, type, subject, actor, acting_as_tenant_id,
                                  data, occurred_at, recorded_at, prev_hash, hash)
       SELECT "tenantId", chain, seq, "eventId", type, subject, actor, "actingAsTenantId",
              data, "occurredAt", "recordedAt", "prevHash", hash
       FROM jsonb_to_recordset($1::jsonb) AS e("tenantId" uuid, chain text, seq bigint, "eventId" uuid, type text,
            subject text, actor jsonb, "actingAsTenantId" uuid, data jsonb, "occurredAt" timestamptz,
            "recordedAt" timestamptz, "prevHash" text, hash text)`,
      [JSON.stringify(withTenant)],
    );
    if (head) {
      await m.db.query(
        `INSERT INTO audit_chain_heads (tenant_id, chain, seq, hash) VALUES ($1, 'main', $2, $3)`,
        [tenantId, head.seq, head.hash],
      );
    }
    for (const c of checkpoints) {
      // Not signed by any key: the verifier treats it as a checkpoint that does not verify.
      await m.db.query(
        `INSERT INTO audit_checkpoints (tenant_id, chain, seq, hash, signed_at, signature)
         VALUES ($1, 'main', $2, $3, now(), 'AAAA')`,
        [tenantId, c.seq, c.hash],
      );
    }
    return tenantId;
  }

  const headOf = (rows: Row[]) => ({
    seq: rows[rows.length - 1].seq,
    hash: rows[rows.length - 1].hash,
  });

  type Case = [string, (tenantId: string) => Promise<string>, unknown];
  const cases: Case[] = [
    [
      'intact',
      async (t) => {
        const rows = chainOf(t, N);
        return store(t, rows, headOf(rows));
      },
      { ok: true },
    ],
    ...[1, 6, 7, 150, 300].map((seq): Case => [
      `changed content at ${seq}`,
      async (t) => {
        const rows = chainOf(t, N);
        const head = headOf(rows);
        rows[seq - 1] = { ...rows[seq - 1], data: { amount: -1 } };
        return store(t, rows, head);
      },
      { seq, reason: 'hash_mismatch' },
    ]),
    ...[1, 6, 11, 151].map((seq): Case => [
      `changed prev_hash at ${seq}`,
      async (t) => {
        const rows = chainOf(t, N);
        rows[seq - 1] = { ...rows[seq - 1], prevHash: 'a'.repeat(64) };
        return store(t, rows, headOf(rows));
      },
      { seq, reason: 'prev_hash_mismatch' },
    ]),
    ...[5, 10, 149].map((seq): Case => [
      `row ${seq} rewritten consistently in itself`,
      async (t) => {
        const rows = chainOf(t, N);
        rows[seq - 1] = rehash(t, { ...rows[seq - 1], data: { amount: 0 } });
        return store(t, rows, headOf(rows));
      },
      { seq: seq + 1, reason: 'prev_hash_mismatch' },
    ]),
    ...[1, 6, 10, 200].map((seq): Case => [
      `missing row ${seq}`,
      async (t) => {
        const rows = chainOf(t, N);
        const head = headOf(rows);
        rows.splice(seq - 1, 1);
        return store(t, rows, head);
      },
      { seq, reason: 'sequence_gap' },
    ]),
    [
      'rows missing at the end',
      async (t) => {
        const rows = chainOf(t, N);
        return store(t, rows.slice(0, N - 12), headOf(rows));
      },
      { seq: N - 11, reason: 'sequence_gap' },
    ],
    [
      'a head naming another hash',
      async (t) => {
        const rows = chainOf(t, N);
        return store(t, rows, { seq: N, hash: 'c'.repeat(64) });
      },
      { seq: N, reason: 'hash_mismatch' },
    ],
    [
      'a checkpoint that does not verify, and a later hash change',
      async (t) => {
        const rows = chainOf(t, N);
        const head = headOf(rows);
        rows[250] = { ...rows[250], data: {} };
        return store(t, rows, head, [{ seq: 100, hash: rows[99].hash }]);
      },
      { seq: 100, reason: 'checkpoint_mismatch' },
    ],
    [
      'a checkpoint past the head (rows cut off, head moved back)',
      async (t) => {
        const rows = chainOf(t, N);
        const cut = rows.slice(0, 280);
        return store(t, cut, headOf(cut), [{ seq: 290, hash: rows[289].hash }]);
      },
      { seq: 281, reason: 'sequence_gap' },
    ],
    [
      'a break in a late range and an earlier one in an early range',
      async (t) => {
        const rows = chainOf(t, N);
        const head = headOf(rows);
        rows[290] = { ...rows[290], data: {} };
        rows[20] = { ...rows[20], prevHash: GENESIS_HASH };
        return store(t, rows, head);
      },
      { seq: 21, reason: 'prev_hash_mismatch' },
    ],
  ];

  // Worker threads take a while to start on a busy machine: each case runs one thread count in
  // turn (1, 2, 4), the intact chain two and four.
  it.each(cases.map((c, i) => [...c, i === 0 ? [2, 4] : [[1, 2, 4][i % 3]]] as const))(
    '%s: the parallel verify reports what the walk reports',
    async (_name, build, want, threadCounts) => {
      const tenantId = await build(randomUUID());
      const expected = await walk.verify(tenantId, 'main');
      if ((want as { ok?: boolean }).ok) expect(expected.ok).toBe(true);
      else expect(expected).toMatchObject({ ok: false, firstBreak: want });
      for (const threads of threadCounts) {
        expect(await parallel(threads).verify(tenantId, 'main')).toEqual(expected);
      }
      // The standalone verifier, in one pass and in byte ranges of about five lines.
      const file = await exportFile(tenantId);
      const onePass = await chainTool.verify(file, undefined, undefined, {
        parallelFromBytes: Infinity,
      });
      expect(
        await chainTool.verify(file, undefined, undefined, {
          parallelFromBytes: 0,
          threads: threadCounts[0],
          ranges: 60,
        }),
      ).toEqual(onePass);
    },
    120000,
  );
});
