import { Injectable } from '@nestjs/common';
import { Clock, Database, IdGenerator, Sql } from '@app/platform';
import { Actor, ActorType, NewEvent, StoredEvent } from './event-types';

/** One of Ledgerline's own changes, recorded in the same transaction as the change. */
export interface SystemEvent {
  tenantId: string;
  type: string;
  subject: string;
  actor: Actor;
  data: Record<string, unknown>;
}

export const EVENTS_CHANNEL = 'ledgerline_events';

interface EventRow {
  tenant_id: string;
  id: string;
  position: number;
  type: string;
  subject: string | null;
  actor_type: ActorType;
  actor_id: string;
  acting_as_tenant_id: string | null;
  occurred_at: Date;
  received_at: Date;
  data: Record<string, unknown>;
}

const COLUMNS =
  'tenant_id, id, position, type, subject, actor_type, actor_id, acting_as_tenant_id, occurred_at, received_at, data';

function fromRow(r: EventRow): StoredEvent {
  return {
    tenantId: r.tenant_id,
    id: r.id,
    position: r.position,
    type: r.type,
    subject: r.subject,
    actor: { type: r.actor_type, id: r.actor_id },
    actingAsTenantId: r.acting_as_tenant_id,
    occurredAt: r.occurred_at,
    receivedAt: r.received_at,
    data: r.data,
  };
}

/** The event store, which is also the outbox: every accepted event is a row here first. */
@Injectable()
export class EventStore {
  private announcing = false;
  private announceAgain = false;

  constructor(
    private readonly db: Database,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
  ) {}

  /** Records Ledgerline's own changes (reserved types) as events, so they are audited and delivered. */
  record(sql: Sql, ...events: SystemEvent[]): Promise<StoredEvent[]> {
    const now = this.clock.now();
    return this.append(
      sql,
      events.map((e) => ({
        ...e,
        id: this.ids.next(),
        actingAsTenantId: null,
        occurredAt: now,
        receivedAt: now,
      })),
    );
  }

  /**
   * Appends inside the caller's transaction. Positions are reserved per tenant in tenant-id
   * order (so two writers never deadlock) and the tenant row stays locked until commit.
   */
  async append(sql: Sql, events: NewEvent[]): Promise<StoredEvent[]> {
    if (!events.length) return [];
    const counts = new Map<string, number>();
    for (const e of events) counts.set(e.tenantId, (counts.get(e.tenantId) ?? 0) + 1);
    const tenants = [...counts.keys()].sort();
    const reserved = await sql.query<{ tenant_id: string; position: number }>(
      `INSERT INTO tenant_streams (tenant_id, position)
       SELECT * FROM unnest($1::uuid[], $2::bigint[])
       ON CONFLICT (tenant_id) DO UPDATE SET position = tenant_streams.position + EXCLUDED.position
       RETURNING tenant_id, position`,
      [tenants, tenants.map((t) => counts.get(t))],
      'event_store_reserve',
    );
    const next = new Map<string, number>();
    for (const r of reserved) next.set(r.tenant_id, r.position - counts.get(r.tenant_id)! + 1);
    const stored = events.map((e) => {
      const position = next.get(e.tenantId)!;
      next.set(e.tenantId, position + 1);
      return { ...e, position };
    });
    await sql.query(
      `INSERT INTO events (${COLUMNS})
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::text[], $6::text[],
                            $7::text[], $8::uuid[], $9::timestamptz[], $10::timestamptz[], $11::jsonb[])`,
      [
        stored.map((e) => e.tenantId),
        stored.map((e) => e.id),
        stored.map((e) => e.position),
        stored.map((e) => e.type),
        stored.map((e) => e.subject),
        stored.map((e) => e.actor.type),
        stored.map((e) => e.actor.id),
        stored.map((e) => e.actingAsTenantId),
        stored.map((e) => e.occurredAt),
        stored.map((e) => e.receivedAt),
        stored.map((e) => JSON.stringify(e.data)),
      ],
      'event_store_insert',
    );
    return stored;
  }

  async findById(tenantId: string, id: string): Promise<StoredEvent | null> {
    const [row] = await this.db.query<EventRow>(
      `SELECT ${COLUMNS} FROM events WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
      'event_by_id',
    );
    return row ? fromRow(row) : null;
  }

  async readAfter(
    sql: Sql,
    tenantId: string,
    after: number,
    limit: number,
  ): Promise<StoredEvent[]> {
    const rows = await sql.query<EventRow>(
      `SELECT ${COLUMNS} FROM events WHERE tenant_id = $1 AND position > $2
       ORDER BY position LIMIT $3`,
      [tenantId, after, limit],
      'events_after',
    );
    return rows.map(fromRow);
  }

  /**
   * Wakes the relay after a commit. NOTIFY inside every transaction would serialise commits,
   * so one notification at a time is sent from outside them; the relay reads by position anyway.
   */
  announce(): void {
    if (this.announcing) {
      this.announceAgain = true;
      return;
    }
    this.announcing = true;
    this.db
      .query(`SELECT pg_notify('${EVENTS_CHANNEL}', '')`, [], 'event_store_notify')
      .catch(() => undefined)
      .finally(() => {
        this.announcing = false;
        if (this.announceAgain) {
          this.announceAgain = false;
          this.announce();
        }
      });
  }
}
