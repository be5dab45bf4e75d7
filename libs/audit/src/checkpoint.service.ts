import { Injectable } from '@nestjs/common';
import canonicalize from 'canonicalize';
import { sign } from 'node:crypto';
import { Clock, Database, LedgerlineConfig, Tx } from '@app/platform';
import { EventStore } from '@app/events';
import { ChainName } from './audit-entry';
import { AuditSigningKeys } from './keys/audit-signing-keys';
import { SigningKeyRing } from './keys/signing-key-ring';

export interface Checkpoint {
  tenantId: string;
  chain: ChainName;
  seq: number;
  hash: string;
  signedAt: string;
  signature: string;
  /** null for checkpoints signed before keyIds were recorded */
  keyId: string | null;
}

/** A checkpoint as verify sees it: its hash, and whether its signature holds. */
export interface CheckedCheckpoint {
  hash: string;
  valid: boolean;
}

interface CheckpointRow {
  tenant_id: string;
  chain: ChainName;
  seq: number;
  hash: string;
  signed_at: Date;
  signature: string;
  key_id: string | null;
}

export const toCheckpoint = (r: CheckpointRow): Checkpoint => ({
  tenantId: r.tenant_id,
  chain: r.chain,
  seq: r.seq,
  hash: r.hash,
  signedAt: r.signed_at.toISOString(),
  signature: r.signature,
  keyId: r.key_id,
});

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
    const [last] = await tx.query<{ seq: number }>(
      `SELECT coalesce(max(seq), 0) AS seq FROM audit_checkpoints WHERE tenant_id = $1 AND chain = $2`,
      [tenantId, chain],
      'checkpoint_last',
    );
    let signed = last.seq;
    for (const { seq, hash } of entries) {
      if (seq - signed >= this.config.AUDIT_CHECKPOINT_EVERY_ENTRIES) {
        await this.create(tx, tenantId, chain, seq, hash);
        signed = seq;
      }
    }
  }

  /** Checkpoints every chain head that moved since its last checkpoint. */
  async sweep(): Promise<number> {
    const due = await this.db.query<{ tenant_id: string; chain: ChainName }>(
      `SELECT h.tenant_id, h.chain FROM audit_chain_heads h
       WHERE h.seq > coalesce((SELECT max(seq) FROM audit_checkpoints c
                               WHERE c.tenant_id = h.tenant_id AND c.chain = h.chain), 0)`,
    );
    let made = 0;
    for (const { tenant_id, chain } of due) {
      made += await this.db.transaction(async (tx) => {
        const [head] = await tx.query<{ seq: number; hash: string }>(
          `SELECT seq, hash FROM audit_chain_heads WHERE tenant_id = $1 AND chain = $2 FOR UPDATE SKIP LOCKED`,
          [tenant_id, chain],
        );
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
    const inserted = await tx.query(
      `INSERT INTO audit_checkpoints (tenant_id, chain, seq, hash, signed_at, signature, key_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING seq`,
      [tenantId, chain, seq, hash, unsigned.signedAt, signature, keyId],
      'checkpoint_insert_keyed',
    );
    if (!inserted.length) return 0;
    await this.store.record(tx, {
      tenantId,
      type: 'audit.checkpoint',
      subject: `audit/${chain}`,
      actor: { type: 'system', id: 'ledgerline' },
      data: { ...unsigned, signature, keyId },
    });
    return 1;
  }

  async list(
    tenantId: string,
    chain: ChainName,
    afterSeq: number,
    limit: number,
  ): Promise<Checkpoint[]> {
    const rows = await this.db.query<CheckpointRow>(
      `SELECT * FROM audit_checkpoints WHERE tenant_id = $1 AND chain = $2 AND seq > $3 ORDER BY seq LIMIT $4`,
      [tenantId, chain, afterSeq, limit],
    );
    return rows.map(toCheckpoint);
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
    const rows = await this.db.query<CheckpointRow>(
      `SELECT * FROM audit_checkpoints WHERE tenant_id = $1 AND chain = $2 AND seq > $3 AND seq <= $4
       ORDER BY seq`,
      [tenantId, chain, afterSeq, upToSeq],
      'checkpoint_range',
    );
    const checked = new Map<number, CheckedCheckpoint>();
    for (const row of rows) {
      const c = toCheckpoint(row);
      const valid =
        c.tenantId === tenantId &&
        ring.verifies(checkpointPayload(c), Buffer.from(c.signature, 'base64'), c.keyId);
      checked.set(c.seq, { hash: c.hash, valid });
    }
    return checked;
  }
}
