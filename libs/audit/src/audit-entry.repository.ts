import { Injectable } from '@nestjs/common';
import QueryStream from 'pg-query-stream';
import { Readable } from 'node:stream';
import { Database } from '@app/platform';
import { AuditEntryRow, ChainName } from './audit-entry';

export interface EntryFilter {
  type?: string;
  actorId?: string;
  subject?: string;
  from?: Date;
  to?: Date;
  beforeSeq?: number;
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

  async findByEvent(
    tenantId: string,
    eventId: string,
  ): Promise<{ chain: ChainName; seq: number } | null> {
    const [row] = await this.db.query<{ chain: ChainName; seq: number }>(
      `SELECT chain, seq FROM audit_entries WHERE tenant_id = $1 AND chain = 'main' AND event_id = $2`,
      [tenantId, eventId],
      'audit_by_event',
    );
    return row ?? null;
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
