import { Injectable } from '@nestjs/common';
import { Database, Sql, Tx } from '@app/platform';
import {
  Channel,
  CHANNELS,
  ConsentActor,
  ConsentRecord,
  ConsentStates,
  Evidence,
  LogStatus,
} from './consent.types';

interface LogRow {
  id: string;
  contact_id: string;
  channel: Channel;
  status: LogStatus;
  source: string;
  legal_basis: string | null;
  evidence: Evidence | null;
  actor_type: ConsentActor['type'];
  actor_id: string | null;
  ip: string | null;
  user_agent: string | null;
  recorded_at: Date;
}

const COLUMNS =
  'id, contact_id, channel, status, source, legal_basis, evidence, actor_type, actor_id, ip, user_agent, recorded_at';

const toRecord = (r: LogRow): ConsentRecord => ({
  id: r.id,
  contactId: r.contact_id,
  channel: r.channel,
  status: r.status,
  source: r.source,
  legalBasis: r.legal_basis,
  evidence: r.evidence,
  actor: { type: r.actor_type, id: r.actor_id },
  ip: r.ip,
  userAgent: r.user_agent,
  recordedAt: r.recorded_at.toISOString(),
});

export type NewConsentRecord = Omit<ConsentRecord, 'recordedAt'> & { recordedAt: Date };

/** consent_log: append-only (a trigger refuses UPDATE, DELETE and TRUNCATE). */
@Injectable()
export class ConsentLogRepository {
  constructor(private readonly db: Database) {}

  async append(tx: Tx, tenantId: string, r: NewConsentRecord): Promise<ConsentRecord> {
    const [row] = await tx.query<LogRow>(
      `INSERT INTO consent_log (tenant_id, id, contact_id, channel, status, source, legal_basis,
                                evidence, actor_type, actor_id, ip, user_agent, recorded_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       RETURNING ${COLUMNS}`,
      [
        tenantId,
        r.id,
        r.contactId,
        r.channel,
        r.status,
        r.source,
        r.legalBasis,
        r.evidence,
        r.actor.type,
        r.actor.id,
        r.ip,
        r.userAgent,
        r.recordedAt,
      ],
    );
    return toRecord(row);
  }

  /** The newest record of one channel: what its current state derives from. */
  async current(
    sql: Sql,
    tenantId: string,
    contactId: string,
    channel: Channel,
  ): Promise<{ id: string; status: LogStatus } | null> {
    const [row] = await sql.query<{ id: string; status: LogStatus }>(
      `SELECT id, status FROM consent_log WHERE tenant_id = $1 AND contact_id = $2 AND channel = $3
       ORDER BY seq DESC LIMIT 1`,
      [tenantId, contactId, channel],
      'consent_current',
    );
    return row ?? null;
  }

  /** Every channel's current state (`unknown` where nothing was recorded). */
  async states(sql: Sql, tenantId: string, contactId: string): Promise<ConsentStates> {
    const rows = await sql.query<{ channel: Channel; id: string; status: LogStatus }>(
      `SELECT DISTINCT ON (channel) channel, id, status FROM consent_log
       WHERE tenant_id = $1 AND contact_id = $2 ORDER BY channel, seq DESC`,
      [tenantId, contactId],
    );
    const states = Object.fromEntries(
      CHANNELS.map((c) => [c, { status: 'unknown', logId: null }]),
    ) as ConsentStates;
    for (const r of rows) states[r.channel] = { status: r.status, logId: r.id };
    return states;
  }

  async log(tenantId: string, contactId: string): Promise<ConsentRecord[]> {
    const rows = await this.db.query<LogRow>(
      `SELECT ${COLUMNS} FROM consent_log WHERE tenant_id = $1 AND contact_id = $2 ORDER BY seq`,
      [tenantId, contactId],
    );
    return rows.map(toRecord);
  }

  async find(sql: Sql, tenantId: string, id: string): Promise<ConsentRecord | null> {
    const [row] = await sql.query<LogRow>(
      `SELECT ${COLUMNS} FROM consent_log WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    return row ? toRecord(row) : null;
  }

  async addConfirmation(
    tx: Tx,
    tenantId: string,
    logId: string,
    contactId: string,
    channel: Channel,
    expiresAt: Date,
  ): Promise<void> {
    await tx.query(
      `INSERT INTO consent_confirmations (tenant_id, log_id, contact_id, channel, expires_at)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
      [tenantId, logId, contactId, channel, expiresAt],
    );
  }

  /**
   * Claims confirmations that are due (not mailed, not expired, fewer than `maxAttempts` tries):
   * each claim counts an attempt and moves its next attempt 1 minute × 2^attempts ahead (at most
   * 6 hours), which is both the retry backoff and a lease, so two workers never mail one row.
   */
  async claimUnmailed(now: Date, limit: number, maxAttempts: number) {
    return this.db.query<{
      tenant_id: string;
      log_id: string;
      contact_id: string;
      channel: Channel;
      expires_at: Date;
      attempts: number;
    }>(
      `WITH due AS (
         SELECT tenant_id, log_id FROM consent_confirmations
         WHERE mailed_at IS NULL AND expires_at > $1 AND next_attempt_at <= $1 AND attempts < $3
         ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       UPDATE consent_confirmations c SET attempts = c.attempts + 1,
         next_attempt_at = $1::timestamptz
           + least(interval '1 minute' * power(2, c.attempts), interval '6 hours')
       FROM due WHERE c.tenant_id = due.tenant_id AND c.log_id = due.log_id
       RETURNING c.tenant_id, c.log_id, c.contact_id, c.channel, c.expires_at, c.attempts`,
      [now, limit, maxAttempts],
    );
  }

  async markMailed(tenantId: string, logId: string, at: Date): Promise<void> {
    await this.db.query(
      `UPDATE consent_confirmations SET mailed_at = $3 WHERE tenant_id = $1 AND log_id = $2`,
      [tenantId, logId, at],
    );
  }

  async forgetConfirmations(tx: Tx, tenantId: string, contactId: string): Promise<void> {
    await tx.query(`DELETE FROM consent_confirmations WHERE tenant_id = $1 AND contact_id = $2`, [
      tenantId,
      contactId,
    ]);
  }
}
