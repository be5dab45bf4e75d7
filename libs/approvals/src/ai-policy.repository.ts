import { Injectable } from '@nestjs/common';
import { Database, Sql, Tx } from '@app/platform';
import { Risk } from './ai-action.types';
import { AiPolicy, AutoApproveBudget } from './risk-policy';

interface PolicyRow {
  type: string;
  risk: Risk;
  required_approvals: number | null;
  auto_approve: AutoApproveBudget | null;
  version: number;
  updated_at: Date;
}

const fromRow = (r: PolicyRow): AiPolicy => ({
  type: r.type,
  risk: r.risk,
  requiredApprovals: r.required_approvals,
  autoApprove: r.auto_approve,
  version: r.version,
  updatedAt: r.updated_at,
});

export interface AiSettings {
  paused: boolean;
  reason: string | null;
  updatedAt: Date | null;
}

interface SettingsRow {
  paused: boolean;
  reason: string | null;
  updated_at: Date | null;
}

const settingsOf = (row: SettingsRow | undefined): AiSettings =>
  row
    ? { paused: row.paused, reason: row.reason, updatedAt: row.updated_at }
    : { paused: false, reason: null, updatedAt: null };

const COLUMNS = 'type, risk, required_approvals, auto_approve, version, updated_at';

/** Risk policies per action type and the tenant's AI settings (the kill switch). */
@Injectable()
export class AiPolicyRepository {
  constructor(private readonly db: Database) {}

  /** Creates the policy at version 1 or replaces it with the next version. */
  async put(
    tx: Tx,
    tenantId: string,
    p: Omit<AiPolicy, 'version' | 'updatedAt'>,
    now: Date,
  ): Promise<AiPolicy> {
    const [row] = await tx.query<PolicyRow>(
      `INSERT INTO ai_policies (tenant_id, type, risk, required_approvals, auto_approve, version, updated_at)
       VALUES ($1, $2, $3, $4, $5, 1, $6)
       ON CONFLICT ON CONSTRAINT ai_policies_pk DO UPDATE SET risk = EXCLUDED.risk,
         required_approvals = EXCLUDED.required_approvals, auto_approve = EXCLUDED.auto_approve,
         version = ai_policies.version + 1, updated_at = EXCLUDED.updated_at
       RETURNING ${COLUMNS}`,
      [
        tenantId,
        p.type,
        p.risk,
        p.requiredApprovals,
        p.autoApprove ? JSON.stringify(p.autoApprove) : null,
        now,
      ],
      'ai_policy_put',
    );
    return fromRow(row);
  }

  async find(sql: Sql, tenantId: string, type: string): Promise<AiPolicy | null> {
    const [row] = await sql.query<PolicyRow>(
      `SELECT ${COLUMNS} FROM ai_policies WHERE tenant_id = $1 AND type = $2`,
      [tenantId, type],
      'ai_policy_find',
    );
    return row ? fromRow(row) : null;
  }

  async list(tenantId: string, afterType: string | null, limit: number): Promise<AiPolicy[]> {
    const rows = await this.db.query<PolicyRow>(
      `SELECT ${COLUMNS} FROM ai_policies WHERE tenant_id = $1 AND ($2::text IS NULL OR type > $2)
       ORDER BY type LIMIT $3`,
      [tenantId, afterType, limit],
      'ai_policy_list',
    );
    return rows.map(fromRow);
  }

  /**
   * Reads the kill switch and holds it (FOR SHARE) until commit: a pause waits for the
   * transactions that read "not paused", and later ones read "paused".
   */
  async settingsForShare(tx: Tx, tenantId: string): Promise<AiSettings> {
    return (await this.settingsForShareMany(tx, [tenantId])).get(tenantId)!;
  }

  /**
   * The same for several tenants at once (a batch of submissions), by tenant id. A tenant
   * without a row gets one (never set, not paused) and it is held like any other: with nothing
   * to lock, the first pause ever would not wait for the submissions that read "not paused".
   */
  async settingsForShareMany(tx: Tx, tenantIds: string[]): Promise<Map<string, AiSettings>> {
    const found = await this.lockSettings(tx, tenantIds);
    const missing = tenantIds.filter((t) => !found.has(t));
    if (missing.length) {
      await tx.query(
        `INSERT INTO ai_settings (tenant_id, paused, reason, updated_at)
         SELECT t, false, null, null FROM unnest($1::uuid[]) AS t
         ON CONFLICT ON CONSTRAINT ai_settings_pk DO NOTHING`,
        [missing],
        'ai_settings_create',
      );
      for (const [t, s] of await this.lockSettings(tx, missing)) found.set(t, s);
    }
    return new Map(tenantIds.map((t) => [t, found.get(t) ?? settingsOf(undefined)]));
  }

  private async lockSettings(tx: Tx, tenantIds: string[]): Promise<Map<string, AiSettings>> {
    const rows = await tx.query<SettingsRow & { tenant_id: string }>(
      `SELECT tenant_id, paused, reason, updated_at FROM ai_settings
       WHERE tenant_id = ANY($1::uuid[]) ORDER BY tenant_id FOR SHARE`,
      [tenantIds],
      'ai_settings_share_many',
    );
    return new Map(rows.map((r) => [r.tenant_id, settingsOf(r)]));
  }

  /** Policies for (tenant, type) pairs, keyed `${tenantId}/${type}`; absent ones are missing. */
  async findMany(
    sql: Sql,
    pairs: { tenantId: string; type: string }[],
  ): Promise<Map<string, AiPolicy>> {
    const rows = await sql.query<PolicyRow & { tenant_id: string }>(
      `SELECT p.tenant_id, ${COLUMNS.split(', ')
        .map((c) => `p.${c}`)
        .join(', ')}
       FROM ai_policies p JOIN unnest($1::uuid[], $2::text[]) AS k(t, ty)
         ON p.tenant_id = k.t AND p.type = k.ty`,
      [pairs.map((p) => p.tenantId), pairs.map((p) => p.type)],
      'ai_policy_find_many',
    );
    return new Map(rows.map((r) => [`${r.tenant_id}/${r.type}`, fromRow(r)]));
  }

  async settings(tenantId: string): Promise<AiSettings> {
    const [row] = await this.db.query<SettingsRow>(
      `SELECT paused, reason, updated_at FROM ai_settings WHERE tenant_id = $1`,
      [tenantId],
      'ai_settings_get',
    );
    return settingsOf(row);
  }

  /** Sets the kill switch; answers the previous state (read under the row lock). */
  async putSettings(
    tx: Tx,
    tenantId: string,
    paused: boolean,
    reason: string | null,
    now: Date,
  ): Promise<{ before: boolean; after: AiSettings }> {
    await tx.query(
      `INSERT INTO ai_settings (tenant_id, paused, reason, updated_at) VALUES ($1, false, null, $2)
       ON CONFLICT ON CONSTRAINT ai_settings_pk DO NOTHING`,
      [tenantId, now],
      'ai_settings_ensure',
    );
    const [prev] = await tx.query<{ paused: boolean }>(
      `SELECT paused FROM ai_settings WHERE tenant_id = $1 FOR UPDATE`,
      [tenantId],
      'ai_settings_lock',
    );
    await tx.query(
      `UPDATE ai_settings SET paused = $2, reason = $3, updated_at = $4 WHERE tenant_id = $1`,
      [tenantId, paused, reason, now],
      'ai_settings_put',
    );
    return { before: prev.paused, after: { paused, reason, updatedAt: now } };
  }
}
