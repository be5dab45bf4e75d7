import { Injectable } from '@nestjs/common';
import { Database, Sql } from '@app/platform';
import { EVENT_COLUMNS, eventFromRow, EventRow } from './event-store';
import { StoredEvent } from './event-types';

/**
 * Read access to a tenant's stored events for other capabilities (webhooks), so that none of
 * them queries the events table or maps its rows itself. Every read is within one tenant.
 */
@Injectable()
export class EventReader {
  constructor(private readonly db: Database) {}

  /** The tenant's events with these ids (any order; an id that is not stored is left out). */
  async byIds(tenantId: string, ids: string[], sql: Sql = this.db): Promise<StoredEvent[]> {
    if (!ids.length) return [];
    const rows = await sql.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
      [tenantId, ids],
      'events_by_ids',
    );
    return rows.map(eventFromRow);
  }

  /** One page of the tenant's events received at or after `since`, after `afterPosition`. */
  async since(
    tenantId: string,
    since: Date,
    afterPosition: number,
    limit: number,
    sql: Sql = this.db,
  ): Promise<StoredEvent[]> {
    const rows = await sql.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE tenant_id = $1 AND received_at >= $2 AND position > $3
       ORDER BY position LIMIT $4`,
      [tenantId, since, afterPosition, limit],
      'events_since',
    );
    return rows.map(eventFromRow);
  }

  /**
   * The position of the tenant's last event (0 before the first). Inside a transaction that has
   * just recorded one event, it is that event's position, and no later event can be committed
   * before this transaction: positions are reserved under the tenant's stream row lock.
   */
  async head(tenantId: string, sql: Sql = this.db): Promise<number> {
    const [row] = await sql.query<{ position: string | number }>(
      `SELECT position FROM tenant_streams WHERE tenant_id = $1`,
      [tenantId],
      'events_head',
    );
    return row ? Number(row.position) : 0;
  }
}
