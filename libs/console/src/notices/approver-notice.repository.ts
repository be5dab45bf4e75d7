import { Injectable } from '@nestjs/common';
import { Database, Tx } from '@app/platform';

export interface NewNotice {
  tenantId: string;
  actionId: string;
  userId: string;
  actionType: string;
  risk: string;
}

/** A claimed notice: `attempts` counts this one. */
export interface ClaimedNotice extends NewNotice {
  attempts?: number;
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
   * Claims up to `limit` unsent notices of the tenant that are due (so two workers never send one
   * notice at once): never tried, or last tried longer ago than `retryAfterMs` doubled per
   * attempt made (at most `maxRetryMs`), and tried fewer than `maxAttempts` times.
   */
  async claimDue(
    tenantId: string,
    retryAfterMs: number,
    limit: number,
    maxAttempts: number,
    maxRetryMs: number,
  ): Promise<ClaimedNotice[]> {
    return this.db.query<ClaimedNotice>(
      `UPDATE approver_notices n SET attempts = n.attempts + 1, last_attempt_at = now()
       WHERE n.tenant_id = $1 AND (n.tenant_id, n.action_id, n.user_id) IN (
         SELECT tenant_id, action_id, user_id FROM approver_notices
         WHERE tenant_id = $1 AND sent_at IS NULL AND attempts < $4
           AND (last_attempt_at IS NULL OR last_attempt_at < now() - make_interval(
                  secs => least($2::float8 * power(2, greatest(attempts - 1, 0)), $5::float8)))
         ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING n.tenant_id AS "tenantId", n.action_id AS "actionId", n.user_id AS "userId",
                 n.action_type AS "actionType", n.risk, n.attempts`,
      [tenantId, retryAfterMs / 1000, limit, maxAttempts, maxRetryMs / 1000],
    );
  }

  async markSent(n: NewNotice): Promise<void> {
    await this.db.query(
      `UPDATE approver_notices SET sent_at = now(), last_error = NULL
       WHERE tenant_id = $1 AND action_id = $2 AND user_id = $3`,
      [n.tenantId, n.actionId, n.userId],
    );
  }

  /** `code`: an error code (never the SMTP server's message, which may hold the address). */
  async markFailed(n: NewNotice, code: string): Promise<void> {
    await this.db.query(
      `UPDATE approver_notices SET last_error = $4
       WHERE tenant_id = $1 AND action_id = $2 AND user_id = $3`,
      [n.tenantId, n.actionId, n.userId, code.slice(0, 64)],
    );
  }

  /** Tenants with unsent notices not yet given up on (the sweeper's list). */
  async tenantsWithDue(maxAttempts: number): Promise<string[]> {
    const rows = await this.db.query<{ tenant_id: string }>(
      `SELECT DISTINCT tenant_id FROM approver_notices WHERE sent_at IS NULL AND attempts < $1`,
      [maxAttempts],
    );
    return rows.map((r) => r.tenant_id);
  }
}
