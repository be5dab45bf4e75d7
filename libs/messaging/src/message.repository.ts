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

/** messages: each outbound message, its state and the gate decisions it went through. */
@Injectable()
export class MessageRepository {
  constructor(private readonly db: Database) {}

  /** false when a message with this id exists already (an executor's second run). */
  async insert(tx: Tx, m: Message): Promise<boolean> {
    const rows = await tx.query(
      `INSERT INTO messages (tenant_id, id, contact_id, channel, category, subject, body, status,
                             reason, send_at, next_attempt_at, checks, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
       ON CONFLICT DO NOTHING RETURNING id`,
      [
        m.tenantId,
        m.id,
        m.contactId,
        m.channel,
        m.category,
        m.subject,
        m.body,
        m.status,
        m.reason,
        m.sendAt,
        m.nextAttemptAt,
        JSON.stringify(m.checks),
        m.createdAt,
      ],
      'message_insert',
    );
    return rows.length === 1;
  }

  async find(sql: Sql, tenantId: string, id: string): Promise<Message | null> {
    const [row] = await sql.query<MessageRow>(
      `SELECT ${COLUMNS} FROM messages WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
      'message_by_id',
    );
    return row ? toMessage(row) : null;
  }

  /** The message, locked; null when missing or another worker holds its lock right now. */
  async lock(tx: Tx, tenantId: string, id: string): Promise<Message | null> {
    const [row] = await tx.query<MessageRow>(
      `SELECT ${COLUMNS} FROM messages WHERE tenant_id = $1 AND id = $2 FOR UPDATE SKIP LOCKED`,
      [tenantId, id],
      'message_lock',
    );
    return row ? toMessage(row) : null;
  }

  /** The message, locked; waits for another transaction that holds it. */
  async lockWaiting(tx: Tx, tenantId: string, id: string): Promise<Message | null> {
    const [row] = await tx.query<MessageRow>(
      `SELECT ${COLUMNS} FROM messages WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
      [tenantId, id],
      'message_lock_wait',
    );
    return row ? toMessage(row) : null;
  }

  async save(
    sql: Sql,
    m: Pick<
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
    > & { lastError?: string | null },
    at: Date,
  ): Promise<void> {
    await sql.query(
      `UPDATE messages SET status = $3, reason = $4, sent_at = $5, attempts = $6,
              next_attempt_at = $7, lease_until = $8, checks = $9, last_error = $10, updated_at = $11,
              swept_at = NULL
       WHERE tenant_id = $1 AND id = $2`,
      [
        m.tenantId,
        m.id,
        m.status,
        m.reason,
        m.sentAt,
        m.attempts,
        m.nextAttemptAt,
        m.leaseUntil,
        JSON.stringify(m.checks),
        m.lastError ?? null,
        at,
      ],
      'message_save',
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
