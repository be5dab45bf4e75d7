import { Injectable } from '@nestjs/common';
import { AuditEntryRepository } from './audit-entry.repository';
import { ChainName, fromRow, GENESIS_HASH, hashEntry } from './audit-entry';
import { CheckpointService } from './checkpoint.service';

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

const PAGE = 5000;

/**
 * Recomputes a chain from seq 1 in pages (never the whole chain in memory) and reports the first
 * break in seq order. Checkpoints signed earlier catch a chain rewritten with consistent hashes.
 */
@Injectable()
export class AuditChainVerifier {
  constructor(
    private readonly repo: AuditEntryRepository,
    private readonly checkpoints: CheckpointService,
  ) {}

  async verify(
    tenantId: string,
    chain: ChainName,
    onProgress?: (checked: number, total: number) => void,
  ): Promise<VerifyResult> {
    const signed = await this.checkpoints.verifiedMap(tenantId, chain);
    const head = await this.repo.head(tenantId, chain);
    const total = head?.seq ?? 0;
    let expectedSeq = 1;
    let prevHash = GENESIS_HASH;
    let entries = 0;
    const broken = (seq: number, reason: BreakReason): VerifyResult => ({
      ok: false,
      chain,
      entries,
      firstBreak: { seq, reason },
    });
    // Entries appended after the head was read are left for the next verify.
    const bound = head ? head.seq : Number.MAX_SAFE_INTEGER;
    let reachedBound = false;
    while (!reachedBound) {
      const rows = await this.repo.page(tenantId, chain, expectedSeq - 1, PAGE);
      if (!rows.length) break;
      for (const row of rows) {
        if (expectedSeq > bound) {
          reachedBound = true;
          break;
        }
        if (row.seq !== expectedSeq) return broken(expectedSeq, 'sequence_gap');
        entries++;
        const entry = fromRow(row);
        if (hashEntry(entry.prevHash, entry) !== entry.hash)
          return broken(row.seq, 'hash_mismatch');
        if (entry.prevHash !== prevHash) return broken(row.seq, 'prev_hash_mismatch');
        const checkpoint = signed.get(row.seq);
        if (checkpoint && (!checkpoint.valid || checkpoint.hash !== entry.hash)) {
          return broken(row.seq, 'checkpoint_mismatch');
        }
        prevHash = entry.hash;
        expectedSeq++;
      }
      onProgress?.(entries, Math.max(total, entries));
      if (rows.length < PAGE) break;
    }
    const last = expectedSeq - 1;
    // Rows missing at the end: the head or a signed checkpoint says the chain was longer.
    // (a loop, not Math.max(...seqs): a long-lived chain has more checkpoints than fit in a call)
    let claimed = total;
    for (const seq of signed.keys()) if (seq > claimed) claimed = seq;
    if (claimed > last) return broken(last + 1, 'sequence_gap');
    if (head && last > 0 && head.hash !== prevHash) return broken(last, 'hash_mismatch');
    for (const [seq, c] of signed)
      if (!c.valid && seq <= last) return broken(seq, 'checkpoint_mismatch');
    return { ok: true, chain, entries, head: { seq: last, hash: prevHash } };
  }
}
