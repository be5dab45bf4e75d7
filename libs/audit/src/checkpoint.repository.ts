import { Injectable } from '@nestjs/common';
import { Database, Tx } from '@app/platform';
import { ChainName } from './audit-entry';

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

interface CheckpointRow {
  tenant_id: string;
  chain: ChainName;
  seq: number;
  hash: string;
  signed_at: Date;
  signature: string;
  key_id: string | null;
}

const fromRow = (r: CheckpointRow): Checkpoint => ({
  tenantId: r.tenant_id,
  chain: r.chain,
  seq: r.seq,
  hash: r.hash,
  signedAt: r.signed_at.toISOString(),
  signature: r.signature,
  keyId: r.key_id,
});

/** audit_checkpoints (append-only) and the chain heads they sign. */
@Injectable()
export class CheckpointRepository {
  constructor(private readonly db: Database) {}

  async lastSeq(tx: Tx, tenantId: string, chain: ChainName): Promise<number> {
    const [last] = await tx.query<{ seq: number }>(
      `SELECT coalesce(max(seq), 0) AS seq FROM audit_checkpoints WHERE tenant_id = $1 AND chain = $2`,
      [tenantId, chain],
      'checkpoint_last',
    );
    return last.seq;
  }

  /** Chains whose head moved past their last checkpoint. */
  dueChains(): Promise<{ tenant_id: string; chain: ChainName }[]> {
    return this.db.query(
      `SELECT h.tenant_id, h.chain FROM audit_chain_heads h
       WHERE h.seq > coalesce((SELECT max(seq) FROM audit_checkpoints c
                               WHERE c.tenant_id = h.tenant_id AND c.chain = h.chain), 0)`,
    );
  }

  /** The chain's head, locked until commit; null while an appender holds it. */
  async lockHead(
    tx: Tx,
    tenantId: string,
    chain: ChainName,
  ): Promise<{ seq: number; hash: string } | null> {
    const [head] = await tx.query<{ seq: number; hash: string }>(
      `SELECT seq, hash FROM audit_chain_heads WHERE tenant_id = $1 AND chain = $2 FOR UPDATE SKIP LOCKED`,
      [tenantId, chain],
    );
    return head ?? null;
  }

  /** False when that seq was already checkpointed. */
  async insert(tx: Tx, c: Checkpoint): Promise<boolean> {
    const inserted = await tx.query(
      `INSERT INTO audit_checkpoints (tenant_id, chain, seq, hash, signed_at, signature, key_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING seq`,
      [c.tenantId, c.chain, c.seq, c.hash, c.signedAt, c.signature, c.keyId],
      'checkpoint_insert_keyed',
    );
    return inserted.length > 0;
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
    return rows.map(fromRow);
  }

  /** The newest checkpoint of a chain (the console's chain status). */
  async latest(tenantId: string, chain: ChainName): Promise<Checkpoint | null> {
    const rows = await this.db.query<CheckpointRow>(
      `SELECT * FROM audit_checkpoints WHERE tenant_id = $1 AND chain = $2
       ORDER BY seq DESC LIMIT 1`,
      [tenantId, chain],
    );
    return rows.length ? fromRow(rows[0]) : null;
  }

  async inRange(
    tenantId: string,
    chain: ChainName,
    afterSeq: number,
    upToSeq: number,
  ): Promise<Checkpoint[]> {
    const rows = await this.db.query<CheckpointRow>(
      `SELECT * FROM audit_checkpoints WHERE tenant_id = $1 AND chain = $2 AND seq > $3 AND seq <= $4
       ORDER BY seq`,
      [tenantId, chain, afterSeq, upToSeq],
      'checkpoint_range',
    );
    return rows.map(fromRow);
  }
}
