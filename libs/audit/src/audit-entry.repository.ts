import { Injectable } from '@nestjs/common';
import QueryStream from 'pg-query-stream';
import { Readable } from 'node:stream';
import { Database, Tx } from '@app/platform';
import { AuditEntry, AuditEntryRow, ChainName } from './audit-entry';

export interface EntryFilter {
  type?: string;
  actorId?: string;
  subject?: string;
  from?: Date;
  to?: Date;
  beforeSeq?: number;
}

export interface ChainHead {
  seq: number;
  hash: string;
}

@Injectable()
export class AuditEntryRepository {
  constructor(private readonly db: Database) {}

  /** Newest first; every filter is optional and bound as a parameter. */
  list(
    tenantId: string,
    chain: ChainName,
    f: EntryFilter,
    limit: number,
  ): Promise<AuditEntryRow[]> {
    return this.db.query<AuditEntryRow>(
      `SELECT * FROM audit_entries
       WHERE tenant_id = $1 AND chain = $2
         AND ($3::text IS NULL OR type = $3)
         AND ($4::text IS NULL OR actor->>'id' = $4)
         AND ($5::text IS NULL OR subject = $5)
         AND ($6::timestamptz IS NULL OR occurred_at >= $6)
         AND ($7::timestamptz IS NULL OR occurred_at < $7)
         AND ($8::bigint IS NULL OR seq < $8)
       ORDER BY seq DESC LIMIT $9`,
      [
        tenantId,
        chain,
        f.type ?? null,
        f.actorId ?? null,
        f.subject ?? null,
        f.from ?? null,
        f.to ?? null,
        f.beforeSeq ?? null,
        limit,
      ],
      'audit_list',
    );
  }

  async get(tenantId: string, chain: ChainName, seq: number): Promise<AuditEntryRow | null> {
    const [row] = await this.db.query<AuditEntryRow>(
      `SELECT * FROM audit_entries WHERE tenant_id = $1 AND chain = $2 AND seq = $3`,
      [tenantId, chain, seq],
      'audit_get',
    );
    return row ?? null;
  }

  /** Entries with seq > afterSeq in seq order: the verifier pages through the chain with it. */
  page(
    tenantId: string,
    chain: ChainName,
    afterSeq: number,
    limit: number,
  ): Promise<AuditEntryRow[]> {
    return this.db.query<AuditEntryRow>(
      `SELECT * FROM audit_entries WHERE tenant_id = $1 AND chain = $2 AND seq > $3 ORDER BY seq LIMIT $4`,
      [tenantId, chain, afterSeq, limit],
      'audit_page',
    );
  }

  async head(tenantId: string, chain: ChainName): Promise<{ seq: number; hash: string } | null> {
    const [row] = await this.db.query<{ seq: number; hash: string }>(
      `SELECT seq, hash FROM audit_chain_heads WHERE tenant_id = $1 AND chain = $2`,
      [tenantId, chain],
    );
    return row ?? null;
  }

  /**
   * What verify checks up to, read in one snapshot: the head, and the highest signed seq (a
   * checkpoint past the head means rows were cut off the end and the head moved back).
   */
  async bounds(
    tenantId: string,
    chain: ChainName,
  ): Promise<{ head: { seq: number; hash: string } | null; signedUpTo: number }> {
    const [row] = await this.db.query<{
      seq: number | null;
      hash: string | null;
      signed_up_to: number | null;
    }>(
      `SELECT h.seq, h.hash,
              (SELECT max(seq) FROM audit_checkpoints c WHERE c.tenant_id = $1 AND c.chain = $2) AS signed_up_to
       FROM (SELECT 1) one LEFT JOIN audit_chain_heads h ON h.tenant_id = $1 AND h.chain = $2`,
      [tenantId, chain],
      'audit_verify_bounds',
    );
    return {
      head: row.seq === null ? null : { seq: row.seq, hash: row.hash! },
      signedUpTo: row.signed_up_to ?? 0,
    };
  }

  /** The event's entry in one chain (an event is in each chain at most once). */
  async findByEvent(
    tenantId: string,
    chain: ChainName,
    eventId: string,
  ): Promise<{ chain: ChainName; seq: number } | null> {
    const [row] = await this.db.query<{ chain: ChainName; seq: number }>(
      `SELECT chain, seq FROM audit_entries WHERE tenant_id = $1 AND chain = $2 AND event_id = $3`,
      [tenantId, chain, eventId],
      'audit_by_event_in_chain',
    );
    return row ?? null;
  }

  /** Creates the chain's head row when missing and locks it for the appending transaction. */
  async lockHead(tx: Tx, tenantId: string, chain: ChainName): Promise<ChainHead | null> {
    await tx.query(
      `INSERT INTO audit_chain_heads (tenant_id, chain) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
      [tenantId, chain],
      'audit_head_ensure_chain',
    );
    const [head] = await tx.query<ChainHead>(
      `SELECT seq, hash FROM audit_chain_heads WHERE tenant_id = $1 AND chain = $2 FOR UPDATE`,
      [tenantId, chain],
      'audit_head_lock_chain',
    );
    return head ?? null;
  }

  async moveHead(tx: Tx, tenantId: string, chain: ChainName, head: ChainHead): Promise<void> {
    await tx.query(
      `UPDATE audit_chain_heads SET seq = $3, hash = $4, updated_at = now() WHERE tenant_id = $1 AND chain = $2`,
      [tenantId, chain, head.seq, head.hash],
      'audit_head_move',
    );
  }

  /** Which of these events already have an entry in the chain (the replay safety net). */
  async presentEvents(
    tx: Tx,
    tenantId: string,
    chain: ChainName,
    eventIds: string[],
  ): Promise<Set<string>> {
    const rows = await tx.query<{ event_id: string }>(
      `SELECT event_id FROM audit_entries WHERE tenant_id = $1 AND chain = $2 AND event_id = ANY($3::uuid[])`,
      [tenantId, chain, eventIds],
      'audit_present_in_chain',
    );
    return new Set(rows.map((r) => r.event_id));
  }

  /** One JSON document for the whole batch: PostgreSQL parses it once, no array literals. */
  async insert(tx: Tx, entries: AuditEntry[]): Promise<void> {
    await tx.query(
      `INSERT INTO audit_entries (tenant_id, chain, seq, event_id, type, subject, actor, acting_as_tenant_id,
                                  data, occurred_at, recorded_at, prev_hash, hash)
       SELECT "tenantId", chain, seq, "eventId", type, subject, actor, "actingAsTenantId",
              data, "occurredAt", "recordedAt", "prevHash", hash
       FROM jsonb_to_recordset($1::jsonb) AS e("tenantId" uuid, chain text, seq bigint, "eventId" uuid, type text,
            subject text, actor jsonb, "actingAsTenantId" uuid, data jsonb, "occurredAt" timestamptz,
            "recordedAt" timestamptz, "prevHash" text, hash text)`,
      [JSON.stringify(entries)],
      'audit_insert',
    );
  }

  /**
   * Streams a seq range through a server-side cursor, so memory stays flat for any chain length.
   * The caller must call `release` when done.
   */
  async stream(
    tenantId: string,
    chain: ChainName,
    fromSeq: number,
    toSeq: number | null,
  ): Promise<{ rows: Readable; release: () => void }> {
    const client = await this.db.pool.connect();
    const query = new QueryStream(
      `SELECT * FROM audit_entries WHERE tenant_id = $1 AND chain = $2 AND seq >= $3
         AND ($4::bigint IS NULL OR seq <= $4) ORDER BY seq`,
      [tenantId, chain, fromSeq, toSeq],
      { batchSize: 1000 },
    );
    const rows = client.query(query);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      client.release();
    };
    rows.once('end', release);
    rows.once('error', release);
    rows.once('close', release);
    return { rows, release };
  }
}
