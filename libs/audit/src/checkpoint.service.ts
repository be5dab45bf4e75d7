import { Injectable } from '@nestjs/common';
import canonicalize from 'canonicalize';
import { sign } from 'node:crypto';
import { Clock, Database, LedgerlineConfig, Tx } from '@app/platform';
import { EventStore } from '@app/events';
import { ChainName } from './audit-entry';
import { AuditSigningKeys } from './keys/audit-signing-keys';
import { SigningKeyRing } from './keys/signing-key-ring';
import { Checkpoint, CheckpointRepository } from './checkpoint.repository';

export { Checkpoint } from './checkpoint.repository';

/** A checkpoint as verify sees it: its hash, and whether its signature holds. */
export interface CheckedCheckpoint {
  hash: string;
  valid: boolean;
}

/** The bytes a checkpoint signature covers: JCS of {tenantId, chain, seq, hash, signedAt}. */
export function checkpointPayload(c: Omit<Checkpoint, 'signature' | 'keyId'>): Buffer {
  const body = {
    tenantId: c.tenantId,
    chain: c.chain,
    seq: c.seq,
    hash: c.hash,
    signedAt: c.signedAt,
  };
  return Buffer.from(canonicalize(body)!, 'utf8');
}

/**
 * Signs chain heads with the service's Ed25519 key, at least every N entries (inside the
 * appender's transaction) and on a timer for chains with new entries. Each checkpoint is also
 * an `audit.checkpoint` event, so webhook subscribers keep copies outside the database.
 */
@Injectable()
export class CheckpointService {
  constructor(
    private readonly db: Database,
    private readonly checkpoints: CheckpointRepository,
    private readonly keys: AuditSigningKeys,
    private readonly store: EventStore,
    private readonly clock: Clock,
    private readonly config: LedgerlineConfig,
  ) {}

  /**
   * Signs the entries just appended so that no more than AUDIT_CHECKPOINT_EVERY_ENTRIES in a row
   * go unsigned: a batch that crosses the mark is checkpointed at the mark, not only at its end.
   */
  async maybeCheckpoint(
    tx: Tx,
    tenantId: string,
    chain: ChainName,
    entries: { seq: number; hash: string }[],
  ): Promise<void> {
    let signed = await this.checkpoints.lastSeq(tx, tenantId, chain);
    for (const { seq, hash } of entries) {
      if (seq - signed >= this.config.AUDIT_CHECKPOINT_EVERY_ENTRIES) {
        await this.create(tx, tenantId, chain, seq, hash);
        signed = seq;
      }
    }
  }

  /** Checkpoints every chain head that moved since its last checkpoint. */
  async sweep(): Promise<number> {
    const due = await this.checkpoints.dueChains();
    let made = 0;
    for (const { tenant_id, chain } of due) {
      made += await this.db.transaction(async (tx) => {
        const head = await this.checkpoints.lockHead(tx, tenant_id, chain);
        return head ? this.create(tx, tenant_id, chain, head.seq, head.hash) : 0;
      });
    }
    return made;
  }

  private async create(
    tx: Tx,
    tenantId: string,
    chain: ChainName,
    seq: number,
    hash: string,
  ): Promise<number> {
    const { privateKey, keyId } = await this.keys.forSigning();
    const now = this.clock.now();
    const unsigned = { tenantId, chain, seq, hash, signedAt: now.toISOString() };
    const signature = sign(null, checkpointPayload(unsigned), privateKey).toString('base64');
    if (!(await this.checkpoints.insert(tx, { ...unsigned, signature, keyId }))) return 0;
    await this.store.record(tx, {
      tenantId,
      type: 'audit.checkpoint',
      subject: `audit/${chain}`,
      actor: { type: 'system', id: 'ledgerline' },
      data: { ...unsigned, signature, keyId },
    });
    return 1;
  }

  latest(tenantId: string, chain: ChainName): Promise<Checkpoint | null> {
    return this.checkpoints.latest(tenantId, chain);
  }

  list(tenantId: string, chain: ChainName, afterSeq: number, limit: number): Promise<Checkpoint[]> {
    return this.checkpoints.list(tenantId, chain, afterSeq, limit);
  }

  /**
   * The checkpoints with afterSeq < seq <= upToSeq, each checked against the key its keyId names:
   * verify reads them page by page alongside the entries, never the whole list.
   */
  async inRange(
    tenantId: string,
    chain: ChainName,
    afterSeq: number,
    upToSeq: number,
    ring: SigningKeyRing,
  ): Promise<Map<number, CheckedCheckpoint>> {
    const checked = new Map<number, CheckedCheckpoint>();
    for (const c of await this.checkpoints.inRange(tenantId, chain, afterSeq, upToSeq)) {
      const valid =
        c.tenantId === tenantId &&
        ring.verifies(checkpointPayload(c), Buffer.from(c.signature, 'base64'), c.keyId);
      checked.set(c.seq, { hash: c.hash, valid });
    }
    return checked;
  }
}
