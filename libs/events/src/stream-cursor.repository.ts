import { Injectable } from '@nestjs/common';
import { Database, Tx } from '@app/platform';

/** A consumer's cursor, locked, with its tenant's stream head read alongside it. */
export interface LockedCursor {
  position: number;
  /** The tenant's last event position, or null when it has no stream row yet. */
  head: number | null;
}

/** A tenant whose stream is ahead of a consumer's cursor. */
export interface LaggingTenant {
  tenantId: string;
  position: number;
}

/** stream_cursors: how far each consumer (audit, fan-out) has come in each tenant's stream. */
@Injectable()
export class StreamCursorRepository {
  constructor(private readonly db: Database) {}

  /**
   * Locks the cursor with SKIP LOCKED, creating it at 0 first if missing: null when another job
   * holds it. The head is read in the same statement, before the consumer looks for work. The
   * insert runs only when the lock finds no row (a new cursor, or one held elsewhere), so the
   * usual pass pays no round trip and no speculative insertion for it.
   */
  async lock(tx: Tx, tenantId: string, consumer: string): Promise<LockedCursor | null> {
    const locked = await this.lockExisting(tx, tenantId, consumer);
    if (locked) return locked;
    await tx.query(
      `INSERT INTO stream_cursors (tenant_id, consumer) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
      [tenantId, consumer],
      'stream_cursor_ensure',
    );
    return this.lockExisting(tx, tenantId, consumer);
  }

  private async lockExisting(
    tx: Tx,
    tenantId: string,
    consumer: string,
  ): Promise<LockedCursor | null> {
    const [row] = await tx.query<{ position: number; head: number | null }>(
      `SELECT c.position, s.position AS head FROM stream_cursors c
       LEFT JOIN tenant_streams s ON s.tenant_id = c.tenant_id
       WHERE c.tenant_id = $1 AND c.consumer = $2
       FOR UPDATE OF c SKIP LOCKED`,
      [tenantId, consumer],
      'stream_cursor_lock',
    );
    return row ? { position: row.position, head: row.head } : null;
  }

  /** Moves the cursor forward to `position` (never back). */
  async skipTo(tx: Tx, tenantId: string, consumer: string, position: number): Promise<void> {
    await tx.query(
      `UPDATE stream_cursors SET position = $3, updated_at = now()
       WHERE tenant_id = $1 AND consumer = $2 AND position < $3`,
      [tenantId, consumer, position],
      'stream_cursor_skip',
    );
  }

  /** Sets the cursor to the last event just consumed. */
  async moveTo(tx: Tx, tenantId: string, consumer: string, position: number): Promise<void> {
    await tx.query(
      `UPDATE stream_cursors SET position = $3, updated_at = now()
       WHERE tenant_id = $1 AND consumer = $2`,
      [tenantId, consumer, position],
      'stream_cursor_move',
    );
  }

  /**
   * The tenants whose stream head is past the consumer's cursor (or that have no cursor): among
   * `tenantIds` only (primary-key lookups), or over every stream when null.
   */
  async lagging(consumer: string, tenantIds: string[] | null = null): Promise<LaggingTenant[]> {
    const rows = tenantIds
      ? await this.db.query<{ tenant_id: string; position: number }>(
          `SELECT s.tenant_id, s.position FROM tenant_streams s
           LEFT JOIN stream_cursors c ON c.tenant_id = s.tenant_id AND c.consumer = $1
           WHERE s.tenant_id = ANY($2::uuid[]) AND s.position > coalesce(c.position, 0)`,
          [consumer, tenantIds],
          'relay_lagging_named',
        )
      : await this.db.query<{ tenant_id: string; position: number }>(
          `SELECT s.tenant_id, s.position FROM tenant_streams s
           LEFT JOIN stream_cursors c ON c.tenant_id = s.tenant_id AND c.consumer = $1
           WHERE s.position > coalesce(c.position, 0)`,
          [consumer],
          'relay_lagging',
        );
    return rows.map((r) => ({ tenantId: r.tenant_id, position: r.position }));
  }
}
