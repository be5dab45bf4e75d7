import { Injectable } from '@nestjs/common';
import { Database, Tx } from '@app/platform';

export interface NewNotice {
  tenantId: string;
  actionId: string;
  userId: string;
  actionType: string;
  risk: string;
}

/** A notice about to be sent, with the address it goes to. */
export interface DueNotice extends NewNotice {
  email: string;
}

/** Approver notices: one row per waiting action and approver, marked when sent. */
@Injectable()
export class ApproverNoticeRepository {
  constructor(private readonly db: Database) {}

  /** Returns how many were new (a replay inserts none). */
  async insert(tx: Tx, notices: NewNotice[]): Promise<number> {
    if (!notices.length) return 0;
    const rows = await tx.query(
      `INSERT INTO approver_notices (tenant_id, action_id, user_id, action_type, risk)
       SELECT n.tenant_id, n.action_id, n.user_id, n.action_type, n.risk
       FROM jsonb_to_recordset($1::jsonb) AS n(tenant_id uuid, action_id uuid, user_id uuid,
            action_type text, risk text)
       ON CONFLICT DO NOTHING RETURNING 1`,
      [
        JSON.stringify(
          notices.map((n) => ({
            tenant_id: n.tenantId,
            action_id: n.actionId,
            user_id: n.userId,
            action_type: n.actionType,
            risk: n.risk,
          })),
        ),
      ],
    );
    return rows.length;
  }

  /**
   * Claims up to `limit` unsent notices of the tenant not tried within `retryAfterMs` (so two
   * workers never send one notice at once, and a failed one waits before its next try).
   */
  async claimDue(tenantId: string, retryAfterMs: number, limit: number): Promise<NewNotice[]> {
    return this.db.query<NewNotice>(
      `UPDATE approver_notices n SET attempts = n.attempts + 1, last_attempt_at = now()
       WHERE n.tenant_id = $1 AND (n.tenant_id, n.action_id, n.user_id) IN (
         SELECT tenant_id, action_id, user_id FROM approver_notices
         WHERE tenant_id = $1 AND sent_at IS NULL
           AND (last_attempt_at IS NULL OR last_attempt_at < now() - make_interval(secs => $2))
         ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING n.tenant_id AS "tenantId", n.action_id AS "actionId", n.user_id AS "userId",
                 n.action_type AS "actionType", n.risk`,
      [tenantId, retryAfterMs / 1000, limit],
    );
  }

  async markSent(n: NewNotice): Promise<void> {
    await this.db.query(
      `UPDATE approver_notices SET sent_at = now(), last_error = NULL
       WHERE tenant_id = $1 AND action_id = $2 AND user_id = $3`,
      [n.tenantId, n.actionId, n.userId],
    );
  }

  async markFailed(n: NewNotice, error: string): Promise<void> {
    await this.db.query(
      `UPDATE approver_notices SET last_error = $4
       WHERE tenant_id = $1 AND action_id = $2 AND user_id = $3`,
      [n.tenantId, n.actionId, n.userId, error.slice(0, 500)],
    );
  }

  /** Tenants with unsent notices (the sweeper's list). */
  async tenantsWithDue(): Promise<string[]> {
    const rows = await this.db.query<{ tenant_id: string }>(
      `SELECT DISTINCT tenant_id FROM approver_notices WHERE sent_at IS NULL`,
    );
    return rows.map((r) => r.tenant_id);
  }
}
