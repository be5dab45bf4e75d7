import { Injectable, Optional } from '@nestjs/common';
import { LedgerlineConfig, Metrics } from '@app/platform';
import { AuditEntryRepository } from './audit-entry.repository';
import { AuditEntryRow, ChainName, fromRow, GENESIS_HASH, hashEntry } from './audit-entry';
import { CheckedCheckpoint, CheckpointService } from './checkpoint.service';
import { AuditSigningKeys } from './keys/audit-signing-keys';
import { SigningKeyRing } from './keys/signing-key-ring';
import { checkRangesInParallel, verifyThreads } from './chain-range-worker';

export type BreakReason =
  'hash_mismatch' | 'prev_hash_mismatch' | 'sequence_gap' | 'checkpoint_mismatch';

export type VerifyResult =
  | { ok: true; chain: ChainName; entries: number; head: { seq: number; hash: string } }
  | {
      ok: false;
      chain: ChainName;
      entries: number;
      firstBreak: { seq: number; reason: BreakReason };
    };

/** Rows read per query; the next page is read while this one is checked. */
const PAGE = 5000;
/** Rows checked between two yields to the event loop (a few ms of hashing). */
const SLICE = 500;

type Break = { seq: number; reason: BreakReason };

/** Where a verify run stands: the next seq it expects and the hash the next row must link to. */
interface Walk {
  expectedSeq: number;
  prevHash: string;
  entries: number;
  hashAtHead: string | null;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Recomputes a chain from seq 1 in pages (never the whole chain in memory) and reports the first
 * break in seq order. Checkpoints signed earlier catch a chain rewritten with consistent hashes;
 * only those inside the range being checked are read, page by page with the rows, and each is
 * checked with the key its keyId names. Hashing runs in slices that yield to the event loop.
 */
@Injectable()
export class AuditChainVerifier {
  constructor(
    private readonly repo: AuditEntryRepository,
    private readonly checkpoints: CheckpointService,
    private readonly keys: AuditSigningKeys,
    @Optional() private readonly metrics?: Metrics,
    @Optional() private readonly config?: LedgerlineConfig,
  ) {}

  async verify(
    tenantId: string,
    chain: ChainName,
    onProgress?: (checked: number, total: number) => void,
  ): Promise<VerifyResult> {
    const result = await this.check(tenantId, chain, onProgress).catch((err: unknown) => {
      this.metrics?.verifyResults.inc({ outcome: 'error' });
      throw err;
    });
    this.metrics?.verifyResults.inc({ outcome: result.ok ? 'intact' : 'broken' });
    return result;
  }

  private async check(
    tenantId: string,
    chain: ChainName,
    onProgress?: (checked: number, total: number) => void,
  ): Promise<VerifyResult> {
    const { head, signedUpTo } = await this.repo.bounds(tenantId, chain);
    const ring = await this.keys.ring();
    // Entries appended after the bounds were read are left for the next verify; with no head
    // row at all, every row present is checked.
    const bound = head ? Math.max(head.seq, signedUpTo) : Number.MAX_SAFE_INTEGER;
    const total = Math.max(head?.seq ?? 0, signedUpTo);
    if (head && this.config && bound >= this.config.AUDIT_VERIFY_PARALLEL_FROM) {
      return this.checkInParallel(tenantId, chain, head, bound, ring, onProgress);
    }
    const walk: Walk = { expectedSeq: 1, prevHash: GENESIS_HASH, entries: 0, hashAtHead: null };
    const result = (b: Break | null): VerifyResult =>
      b
        ? { ok: false, chain, entries: walk.entries, firstBreak: b }
        : {
            ok: true,
            chain,
            entries: walk.entries,
            head: { seq: walk.expectedSeq - 1, hash: walk.prevHash },
          };

    let next: Promise<AuditEntryRow[]> | null = this.repo.page(tenantId, chain, 0, PAGE);
    while (next) {
      const rows: AuditEntryRow[] = await next;
      const within = rows.filter((r) => r.seq <= bound);
      const lastSeq = within.length ? within[within.length - 1].seq : 0;
      next =
        rows.length === PAGE && within.length === rows.length && lastSeq < bound
          ? this.repo.page(tenantId, chain, lastSeq, PAGE)
          : null;
      if (!within.length) break;
      const signed = await this.checkpoints.inRange(
        tenantId,
        chain,
        walk.expectedSeq - 1,
        lastSeq,
        ring,
      );
      const broke = await this.checkPage(within, signed, walk, head?.seq ?? 0);
      if (broke) {
        next?.catch(() => undefined);
        return result(broke);
      }
      onProgress?.(walk.entries, Math.max(total, walk.entries));
    }
    return result(this.checkEnd(walk, total, head));
  }

  /**
   * The same check split into seq ranges recomputed on worker threads: each entry's hash depends
   * only on its own row and its stored prev_hash, so only the links at the seams between ranges
   * are left to check here, in seq order, which keeps the first break and its reason exactly
   * what the walk above reports.
   */
  private async checkInParallel(
    tenantId: string,
    chain: ChainName,
    head: { seq: number; hash: string },
    bound: number,
    ring: SigningKeyRing,
    onProgress?: (checked: number, total: number) => void,
  ): Promise<VerifyResult> {
    const signed = await this.checkpoints.inRange(tenantId, chain, 0, bound, ring);
    let prevHash = GENESIS_HASH;
    let hashAtHead: string | null = null;
    let broke: Break | null = null;
    await checkRangesInParallel(
      {
        dbUrl: this.config!.DATABASE_URL,
        pgPath: require.resolve('pg'),
        tenantId,
        chain,
        headSeq: head.seq,
        checkpoints: [...signed].map(([seq, c]) => [seq, c.valid ? c.hash : '']),
        upTo: bound,
        threads: verifyThreads(this.config!.AUDIT_VERIFY_THREADS),
      },
      (range) => {
        const gapAtStart = range.broke?.reason === 'sequence_gap' && range.broke.seq === range.from;
        if (!gapAtStart && range.firstPrev !== prevHash) {
          broke = { seq: range.from, reason: 'prev_hash_mismatch' };
        } else if (range.broke) {
          broke = range.broke;
        }
        if (broke) return false;
        prevHash = range.lastHash!;
        hashAtHead ??= range.hashAtHead;
        onProgress?.(range.to, bound);
        return true;
      },
    );
    const found = broke as Break | null;
    if (found) {
      const entries = found.reason === 'sequence_gap' ? found.seq - 1 : found.seq;
      return { ok: false, chain, entries, firstBreak: found };
    }
    if (head.seq > 0 && hashAtHead !== head.hash) {
      return {
        ok: false,
        chain,
        entries: bound,
        firstBreak: { seq: head.seq, reason: 'hash_mismatch' },
      };
    }
    return { ok: true, chain, entries: bound, head: { seq: bound, hash: prevHash } };
  }

  /** Rows missing at the end, or a head that names another hash than the row at its seq. */
  private checkEnd(
    walk: Walk,
    total: number,
    head: { seq: number; hash: string } | null,
  ): Break | null {
    const last = walk.expectedSeq - 1;
    if (total > last) return { seq: last + 1, reason: 'sequence_gap' };
    if (head && head.seq > 0 && walk.hashAtHead !== head.hash) {
      return { seq: head.seq, reason: 'hash_mismatch' };
    }
    return null;
  }

  private async checkPage(
    rows: AuditEntryRow[],
    signed: Map<number, CheckedCheckpoint>,
    walk: Walk,
    headSeq: number,
  ): Promise<Break | null> {
    for (let i = 0; i < rows.length; i += SLICE) {
      if (i > 0) await yieldToEventLoop();
      const end = Math.min(rows.length, i + SLICE);
      for (let j = i; j < end; j++) {
        const broke = checkRow(rows[j], signed, walk);
        if (broke) return broke;
        if (rows[j].seq === headSeq) walk.hashAtHead = rows[j].hash;
      }
    }
    await yieldToEventLoop();
    return null;
  }
}

/**
 * One row against the walk so far. The link is checked before the row's own hash: a row whose
 * prev_hash alone was changed is a broken link (prev_hash_mismatch), not changed content.
 */
export function checkRow(
  row: AuditEntryRow,
  signed: Map<number, CheckedCheckpoint>,
  walk: Walk,
): Break | null {
  if (row.seq !== walk.expectedSeq) return { seq: walk.expectedSeq, reason: 'sequence_gap' };
  walk.entries++;
  if (row.prev_hash !== walk.prevHash) return { seq: row.seq, reason: 'prev_hash_mismatch' };
  if (hashEntry(row.prev_hash, fromRow(row)) !== row.hash) {
    return { seq: row.seq, reason: 'hash_mismatch' };
  }
  const checkpoint = signed.get(row.seq);
  if (checkpoint && (!checkpoint.valid || checkpoint.hash !== row.hash)) {
    return { seq: row.seq, reason: 'checkpoint_mismatch' };
  }
  walk.prevHash = row.hash;
  walk.expectedSeq++;
  return null;
}
