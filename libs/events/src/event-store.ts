import { Injectable } from '@nestjs/common';
import { Clock, Database, IdGenerator, Sql, Tx } from '@app/platform';
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

/**
 * A wake-up's payload names the tenants with new events (comma-separated), so the relay looks at
 * those streams only; FULL_PASS (or an empty payload) asks for a pass over every stream.
 */
export const FULL_PASS = '*';
/** Tenants named in one notification at most (PostgreSQL caps a payload at 8,000 bytes). */
const MAX_NAMED_TENANTS = 150;

/** An events row as pg returns it (shared with EventReader). */
export interface EventRow {
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

export const EVENT_COLUMNS =
  'tenant_id, id, position, type, subject, actor_type, actor_id, acting_as_tenant_id, occurred_at, received_at, data';

/** The one mapping from an events row to a StoredEvent. */
export function eventFromRow(r: EventRow): StoredEvent {
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

// Dates go in as ISO strings: a Date's toJSON takes JSON.stringify off its fast path (4x slower).
type NewEventRow = Omit<EventRow, 'position' | 'occurred_at' | 'received_at'> & {
  occurred_at: string;
  received_at: string;
};

// A request's events share one receivedAt (and usually occurredAt): format it once.
let lastDate: Date | undefined;
let lastIso = '';
function iso(d: Date): string {
  if (d !== lastDate) {
    lastIso = d.toISOString();
    lastDate = d;
  }
  return lastIso;
}

function toRow(e: NewEvent): NewEventRow {
  return {
    tenant_id: e.tenantId,
    id: e.id,
    type: e.type,
    subject: e.subject,
    actor_type: e.actor.type,
    actor_id: e.actor.id,
    acting_as_tenant_id: e.actingAsTenantId,
    occurred_at: iso(e.occurredAt),
    received_at: iso(e.receivedAt),
    data: e.data,
  };
}

// A tenant's rows are adjacent in the document (appendEncoded sees to it), so each is numbered
// from its tenant's first row: no sort and no window function while the stream row is locked.
const APPEND = `
  WITH e AS (
    SELECT * FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (
      tenant_id uuid, id uuid, type text, subject text, actor_type text, actor_id text,
      acting_as_tenant_id uuid, occurred_at timestamptz, received_at timestamptz, data jsonb
    )) WITH ORDINALITY AS e(tenant_id, id, type, subject, actor_type, actor_id,
                            acting_as_tenant_id, occurred_at, received_at, data, n)
  ), counts AS (
    SELECT tenant_id, count(*) AS n, min(n) AS first FROM e GROUP BY tenant_id
  ), reserved AS (
    INSERT INTO tenant_streams (tenant_id, position)
    SELECT tenant_id, n FROM counts ORDER BY tenant_id
    ON CONFLICT (tenant_id) DO UPDATE SET position = tenant_streams.position + EXCLUDED.position
    RETURNING tenant_id, position
  )
  INSERT INTO events (${EVENT_COLUMNS})
  SELECT e.tenant_id, e.id, r.position - c.n + e.n - c.first + 1,
         e.type, e.subject, e.actor_type, e.actor_id, e.acting_as_tenant_id, e.occurred_at,
         e.received_at, e.data
  FROM e JOIN reserved r USING (tenant_id) JOIN counts c USING (tenant_id)`;

/** Events encoded by EventStore.encode: per tenant, its rows as JSON array elements. */
export type EncodedEvents = readonly { readonly tenantId: string; readonly rows: string }[];

/** The characters an encoding sends to PostgreSQL. */
export const encodedLength = (encoded: EncodedEvents) =>
  encoded.reduce((n, part) => n + part.rows.length, 0);

const byTenant = (a: { tenantId: string }, b: { tenantId: string }) =>
  a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0;

/** The event store, which is also the outbox: every accepted event is a row here first. */
@Injectable()
export class EventStore {
  private announcing = false;
  private announceAgain = false;
  /** Tenants committed since the last notification; null: too many to name, a full pass. */
  private dirty: Set<string> | null = new Set();

  constructor(
    private readonly db: Database,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
  ) {}

  /** Records Ledgerline's own changes (reserved types) as events, so they are audited and delivered. */
  record(tx: Tx, ...events: SystemEvent[]): Promise<void> {
    const now = this.clock.now();
    return this.append(
      tx,
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
   * Appends inside the caller's transaction, in one statement: positions are reserved per tenant
   * in tenant-id order (so two writers never deadlock) and numbered in the order given. The tenant
   * row stays locked until commit, so a reader that sees position n has seen every one before it.
   * The relay is woken once the transaction has committed.
   */
  append(tx: Tx, events: NewEvent[]): Promise<void> {
    return this.appendEncoded(tx, [this.encode(events)]);
  }

  /**
   * Events as JSON array elements per tenant, ready to be joined with others and appended. The
   * rows travel as one JSON document, encoded before any lock is taken: JSON.stringify is native,
   * while pg escapes every element of a parameter array in JavaScript.
   */
  encode(events: NewEvent[]): EncodedEvents {
    const rows = new Map<string, NewEventRow[]>();
    for (const e of events) {
      const tenantRows = rows.get(e.tenantId);
      if (tenantRows) tenantRows.push(toRow(e));
      else rows.set(e.tenantId, [toRow(e)]);
    }
    return [...rows].map(([tenantId, r]) => ({ tenantId, rows: JSON.stringify(r).slice(1, -1) }));
  }

  /** Appends encodings in the order given within each tenant (the sort is stable). */
  async appendEncoded(tx: Tx, encoded: EncodedEvents[]): Promise<void> {
    const parts = encoded.flat().sort(byTenant);
    if (!parts.length) return;
    await tx.query(APPEND, [`[${parts.map((p) => p.rows).join(',')}]`], 'event_store_append');
    tx.afterCommit(() => {
      this.markDirty(parts);
      this.announce();
    });
  }

  private markDirty(parts: { tenantId: string }[]): void {
    if (!this.dirty) return;
    for (const { tenantId } of parts) this.dirty.add(tenantId);
    if (this.dirty.size > MAX_NAMED_TENANTS) this.dirty = null;
  }

  async findById(tenantId: string, id: string): Promise<StoredEvent | null> {
    const [row] = await this.db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
      'event_by_id',
    );
    return row ? eventFromRow(row) : null;
  }

  async readAfter(
    sql: Sql,
    tenantId: string,
    after: number,
    limit: number,
  ): Promise<StoredEvent[]> {
    const rows = await sql.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE tenant_id = $1 AND position > $2
       ORDER BY position LIMIT $3`,
      [tenantId, after, limit],
      'events_after',
    );
    return rows.map(eventFromRow);
  }

  /**
   * Wakes the relay after a commit. NOTIFY inside every transaction would serialise commits,
   * so one notification at a time is sent from outside them; the relay reads by position anyway.
   */
  private announce(): void {
    if (this.announcing) {
      this.announceAgain = true;
      return;
    }
    this.announcing = true;
    const payload = this.dirty ? [...this.dirty].join(',') : FULL_PASS;
    this.dirty = new Set();
    this.db
      .query(`SELECT pg_notify('${EVENTS_CHANNEL}', $1)`, [payload], 'event_store_notify')
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
