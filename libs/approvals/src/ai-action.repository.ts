import { Injectable } from '@nestjs/common';
import { Database, Sql, Tx } from '@app/platform';
import { AiAction } from './ai-action';
import { ActionStatus, ActionStep, Risk } from './ai-action.types';
import { AiActionView, toView } from './ai-action.view';

export interface ActionFilter {
  status?: ActionStatus;
  risk?: Risk;
  type?: string;
  agentId?: string;
}

export interface ActionRef {
  tenantId: string;
  id: string;
}

/** The queue table (a projection) and each action's append-only steps. */
@Injectable()
export class AiActionRepository {
  constructor(private readonly db: Database) {}

  /** Inserts a new action's projection and its first steps. */
  async insert(tx: Tx, action: AiAction): Promise<void> {
    const view = toView(action);
    await tx.query(
      `INSERT INTO ai_actions (tenant_id, id, type, agent_id, risk, status, auto_approved, version,
                               view, created_at, expires_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $10)`,
      [
        action.submission.tenantId,
        view.id,
        view.type,
        view.agent.id,
        view.risk,
        view.status,
        view.status === 'auto_approved',
        action.version,
        view,
        view.createdAt,
        view.expiresAt,
      ],
      'ai_action_insert',
    );
    await this.appendSteps(tx, action.submission.tenantId, view.id, action.newSteps);
  }

  /** Locks the action's row until commit: every change of one action is serialised here. */
  async lock(tx: Tx, tenantId: string, id: string): Promise<boolean> {
    const rows = await tx.query(
      `SELECT 1 FROM ai_actions WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
      [tenantId, id],
      'ai_action_lock',
    );
    return rows.length > 0;
  }

  /** Same, but skips an action another transaction holds (sweepers). */
  async tryLock(tx: Tx, tenantId: string, id: string): Promise<boolean> {
    const rows = await tx.query(
      `SELECT 1 FROM ai_actions WHERE tenant_id = $1 AND id = $2 FOR UPDATE SKIP LOCKED`,
      [tenantId, id],
      'ai_action_try_lock',
    );
    return rows.length > 0;
  }

  async load(sql: Sql, tenantId: string, id: string): Promise<AiAction | null> {
    const rows = await sql.query<{ step: ActionStep }>(
      `SELECT step FROM ai_action_steps WHERE tenant_id = $1 AND action_id = $2 ORDER BY seq`,
      [tenantId, id],
      'ai_action_steps',
    );
    return rows.length ? AiAction.replay(rows.map((r) => r.step)) : null;
  }

  /** Persists the action's new steps and moves its projection, in the caller's transaction. */
  async save(tx: Tx, action: AiAction): Promise<void> {
    const { tenantId, id } = action.submission;
    await this.appendSteps(tx, tenantId, id, action.newSteps);
    const view = toView(action);
    await tx.query(
      `UPDATE ai_actions SET status = $3, version = $4, view = $5, updated_at = $6
       WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id, view.status, action.version, view, view.updatedAt],
      'ai_action_save',
    );
  }

  private async appendSteps(tx: Tx, tenantId: string, id: string, steps: ActionStep[]) {
    if (!steps.length) return;
    await tx.query(
      `INSERT INTO ai_action_steps (tenant_id, action_id, seq, kind, at, principal_type,
                                    principal_id, revision, step)
       SELECT $1, $2, s.seq, s.kind, s.at, s.principal_type, s.principal_id, s.revision, s.step
       FROM jsonb_to_recordset($3::jsonb) AS s(seq int, kind text, at timestamptz,
            principal_type text, principal_id text, revision int, step jsonb)`,
      [
        tenantId,
        id,
        JSON.stringify(
          steps.map((s) => ({
            seq: s.seq,
            kind: s.kind,
            at: s.at,
            principal_type: s.principal?.type ?? null,
            principal_id: s.principal?.id ?? null,
            revision: s.revision,
            step: s,
          })),
        ),
      ],
      'ai_action_steps_append',
    );
  }

  async findView(tenantId: string, id: string): Promise<AiActionView | null> {
    const [row] = await this.db.query<{ view: AiActionView }>(
      `SELECT view FROM ai_actions WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
      'ai_action_view',
    );
    return row?.view ?? null;
  }

  /** Oldest first (ids are time-ordered UUIDv7), after the cursor's id. */
  async list(
    tenantId: string,
    filter: ActionFilter,
    afterId: string | null,
    limit: number,
  ): Promise<AiActionView[]> {
    const rows = await this.db.query<{ view: AiActionView }>(
      `SELECT view FROM ai_actions
       WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR risk = $3)
         AND ($4::text IS NULL OR type = $4) AND ($5::text IS NULL OR agent_id = $5)
         AND ($6::uuid IS NULL OR id > $6)
       ORDER BY id LIMIT $7`,
      [
        tenantId,
        filter.status ?? null,
        filter.risk ?? null,
        filter.type ?? null,
        filter.agentId ?? null,
        afterId,
        limit,
      ],
    );
    return rows.map((r) => r.view);
  }

  /**
   * Serialises the budget check of one (tenant, type, agent) across every API process until
   * commit, so two submissions cannot both take the last auto-approval of a window.
   */
  async lockBudget(tx: Tx, tenantId: string, type: string, agentId: string): Promise<void> {
    await tx.query(
      `SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2 || '/' || $3, 0))`,
      [tenantId, type, agentId],
      'ai_budget_lock',
    );
  }

  async countAutoApproved(
    tx: Tx,
    tenantId: string,
    type: string,
    agentId: string,
    since: Date,
  ): Promise<number> {
    const [row] = await tx.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ai_actions
       WHERE tenant_id = $1 AND type = $2 AND agent_id = $3 AND auto_approved AND created_at > $4`,
      [tenantId, type, agentId, since],
      'ai_budget_count',
    );
    return row.n;
  }

  /** Pending actions past their deadline, any tenant (the expiry sweeper). */
  async dueForExpiry(now: Date, limit: number): Promise<ActionRef[]> {
    const rows = await this.db.query<{ tenant_id: string; id: string }>(
      `SELECT tenant_id, id FROM ai_actions
       WHERE status = 'pending_approval' AND expires_at <= $1
       ORDER BY expires_at LIMIT $2`,
      [now, limit],
      'ai_due_for_expiry',
    );
    return rows.map((r) => ({ tenantId: r.tenant_id, id: r.id }));
  }

  /** Approved actions of types executed in-process, not started yet (the execution sweeper). */
  async executable(types: string[], limit: number): Promise<ActionRef[]> {
    if (!types.length) return [];
    const rows = await this.db.query<{ tenant_id: string; id: string }>(
      `SELECT tenant_id, id FROM ai_actions
       WHERE status IN ('approved', 'auto_approved') AND type = ANY($1::text[])
       ORDER BY id LIMIT $2`,
      [types, limit],
      'ai_executable',
    );
    return rows.map((r) => ({ tenantId: r.tenant_id, id: r.id }));
  }
}
