import { Injectable } from '@nestjs/common';
import { Database, Sql, Tx } from '@app/platform';
import { Category, Channel } from '@app/consent';
import { GateCheck, Message, MessageStatus } from './message';

interface MessageRow {
  tenant_id: string;
  id: string;
  contact_id: string;
  channel: Channel;
  category: Category;
  subject: string | null;
  body: string | null;
  status: MessageStatus;
  reason: string | null;
  send_at: Date | null;
  sent_at: Date | null;
  attempts: number;
  next_attempt_at: Date;
  lease_until: Date | null;
  checks: GateCheck[];
  created_at: Date;
}

const COLUMNS =
  'tenant_id, id, contact_id, channel, category, subject, body, status, reason, send_at, sent_at, attempts, next_attempt_at, lease_until, checks, created_at';

const iso = (d: Date | null) => d?.toISOString() ?? null;
const toMessage = (r: MessageRow): Message => ({
  tenantId: r.tenant_id,
  id: r.id,
  contactId: r.contact_id,
  channel: r.channel,
  category: r.category,
  subject: r.subject,
  body: r.body,
  status: r.status,
  reason: r.reason,
  sendAt: iso(r.send_at),
  sentAt: iso(r.sent_at),
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at.toISOString(),
  leaseUntil: iso(r.lease_until),
  checks: r.checks,
  createdAt: r.created_at.toISOString(),
});

export interface MessageRef {
  tenantId: string;
  id: string;
}

/** The part of a message a claim or an outcome changes. */
export type SavedState = Pick<
  Message,
  | 'tenantId'
  | 'id'
  | 'status'
  | 'reason'
  | 'sentAt'
  | 'attempts'
  | 'nextAttemptAt'
  | 'leaseUntil'
  | 'checks'
> & { lastError?: string | null };

/** messages: each outbound message, its state and the gate decisions it went through. */
@Injectable()
export class MessageRepository {
  constructor(private readonly db: Database) {}

  /**
   * Inserts the messages in one statement and answers the ids it inserted (a message whose id
   * exists already, an executor's second run, is left as it was).
   */
  async insertMany(tx: Tx, ms: Message[]): Promise<Set<string>> {
    if (!ms.length) return new Set();
    const rows = await tx.query<{ id: string }>(
      `INSERT INTO messages (tenant_id, id, contact_id, channel, category, subject, body, status,
                             reason, send_at, next_attempt_at, checks, created_at, updated_at)
       SELECT tenant_id, id, contact_id, channel, category, subject, body, status, reason,
              send_at, next_attempt_at, checks, created_at, created_at
       FROM jsonb_to_recordset($1::jsonb) AS v(tenant_id uuid, id uuid, contact_id uuid,
         channel text, category text, subject text, body text, status text, reason text,
         send_at timestamptz, next_attempt_at timestamptz, checks jsonb, created_at timestamptz)
       ON CONFLICT DO NOTHING RETURNING id`,
      [
        JSON.stringify(
          ms.map((m) => ({
            tenant_id: m.tenantId,
            id: m.id,
            contact_id: m.contactId,
            channel: m.channel,
            category: m.category,
            subject: m.subject,
            body: m.body,
            status: m.status,
            reason: m.reason,
            send_at: m.sendAt,
            next_attempt_at: m.nextAttemptAt,
            checks: m.checks,
            created_at: m.createdAt,
          })),
        ),
      ],
      'message_insert_many',
    );
    return new Set(rows.map((r) => r.id));
  }

  async find(sql: Sql, tenantId: string, id: string): Promise<Message | null> {
    const [row] = await sql.query<MessageRow>(
      `SELECT ${COLUMNS} FROM messages WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
      'message_by_id',
    );
    return row ? toMessage(row) : null;
  }

  /**
   * The messages, locked, in tenant and id order. `skipLocked`: those another transaction holds
   * right now are left out (a claim); otherwise it waits for them (an outcome must be recorded).
   */
  async lockMany(tx: Tx, refs: MessageRef[], skipLocked: boolean): Promise<Message[]> {
    if (!refs.length) return [];
    const rows = await tx.query<MessageRow>(
      `SELECT ${COLUMNS} FROM messages
       WHERE (tenant_id, id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[]))
       ORDER BY tenant_id, id FOR UPDATE${skipLocked ? ' SKIP LOCKED' : ''}`,
      [refs.map((r) => r.tenantId), refs.map((r) => r.id)],
      skipLocked ? 'message_claim_lock' : 'message_outcome_lock',
    );
    return rows.map(toMessage);
  }

  /**
   * Writes the messages' state in one statement (`lastError` absent: cleared). The rows come as
   * arrays through unnest, whose row estimate is the arrays' length: joined to jsonb_to_recordset
   * (estimated at 100 rows) the planner chose a sequential scan of messages below ~25k rows.
   */
  async saveMany(sql: Sql, ms: SavedState[], at: Date): Promise<void> {
    if (!ms.length) return;
    await sql.query(
      `UPDATE messages m SET status = v.status, reason = v.reason, sent_at = v.sent_at,
              attempts = v.attempts, next_attempt_at = v.next_attempt_at,
              lease_until = v.lease_until, checks = v.checks, last_error = v.last_error,
              updated_at = $11, swept_at = NULL
       FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::int[],
                   $7::timestamptz[], $8::timestamptz[], $9::jsonb[], $10::text[])
         AS v(tenant_id, id, status, reason, sent_at, attempts, next_attempt_at, lease_until,
              checks, last_error)
       WHERE m.tenant_id = v.tenant_id AND m.id = v.id`,
      [
        ms.map((m) => m.tenantId),
        ms.map((m) => m.id),
        ms.map((m) => m.status),
        ms.map((m) => m.reason),
        ms.map((m) => m.sentAt),
        ms.map((m) => m.attempts),
        ms.map((m) => m.nextAttemptAt),
        ms.map((m) => m.leaseUntil),
        ms.map((m) => JSON.stringify(m.checks)),
        ms.map((m) => m.lastError ?? null),
        at,
      ],
      'message_save_many',
    );
  }

  /**
   * Unfinished messages whose job may be lost: queued or scheduled ones owed since before
   * `dueBefore` (their job normally runs long before), and `sending` ones whose worker's lease
   * has run out (it died mid-send), which the sweeper has not re-added in the last `resweepMs`.
   * Marks them swept, so a backlog is not re-added every second.
   */
  async sweepDue(
    dueBefore: Date,
    now: Date,
    resweepMs: number,
    limit: number,
  ): Promise<MessageRef[]> {
    return this.db.query<MessageRef>(
      `UPDATE messages m SET swept_at = $2
       FROM (SELECT tenant_id, id FROM messages
             WHERE status IN ('queued', 'scheduled', 'sending') AND next_attempt_at <= $2
               AND ((status = 'sending' AND lease_until <= $2)
                    OR (status <> 'sending' AND next_attempt_at <= $1))
               AND (swept_at IS NULL OR swept_at <= $3)
             ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED) due
       WHERE m.tenant_id = due.tenant_id AND m.id = due.id
       RETURNING m.tenant_id AS "tenantId", m.id`,
      [dueBefore, now, new Date(now.getTime() - resweepMs), limit],
    );
  }

  async eraseContact(tx: Tx, tenantId: string, contactId: string): Promise<number> {
    const rows = await tx.query(
      `UPDATE messages SET subject = NULL, body = NULL, last_error = NULL
       WHERE tenant_id = $1 AND contact_id = $2 AND (subject IS NOT NULL OR body IS NOT NULL)
       RETURNING id`,
      [tenantId, contactId],
    );
    return rows.length;
  }

  /** Retention: bodies of finished messages created before `before` go; the records stay. */
  async purgeBodies(tenantId: string, before: Date): Promise<number> {
    const rows = await this.db.query(
      `UPDATE messages SET subject = NULL, body = NULL
       WHERE tenant_id = $1 AND created_at < $2 AND status IN ('sent', 'failed', 'suppressed')
         AND (subject IS NOT NULL OR body IS NOT NULL)
       RETURNING id`,
      [tenantId, before],
    );
    return rows.length;
  }
}
