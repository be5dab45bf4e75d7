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

/** Whose auto-approvals a budget counts. */
export interface BudgetKey {
  tenantId: string;
  type: string;
  agentId: string;
}

export interface ActionRef {
  tenantId: string;
  id: string;
}

type NewStep = { action: AiAction; step: ActionStep };

/** Appends steps given as a JSON array (`stepRows`) in parameter `param`. */
const APPEND_STEPS = (param: string) => `
  INSERT INTO ai_action_steps (tenant_id, action_id, seq, kind, at, principal_type, principal_id,
                               revision, step)
  SELECT s.tenant_id, s.action_id, s.seq, s.kind, s.at, s.principal_type, s.principal_id,
         s.revision, s.step
  FROM jsonb_to_recordset(${param}::jsonb) AS s(tenant_id uuid, action_id uuid, seq int,
       kind text, at timestamptz, principal_type text, principal_id text, revision int, step jsonb)`;

const stepRows = (steps: NewStep[]) =>
  JSON.stringify(
    steps.map(({ action, step: s }) => ({
      tenant_id: action.submission.tenantId,
      action_id: action.id,
      seq: s.seq,
      kind: s.kind,
      at: s.at,
      principal_type: s.principal?.type ?? null,
      principal_id: s.principal?.id ?? null,
      revision: s.revision,
      step: s,
    })),
  );

/** The queue table (a projection) and each action's append-only steps. */
@Injectable()
export class AiActionRepository {
  constructor(private readonly db: Database) {}

  /** Inserts new actions' projections and their first steps, one statement for any number. */
  async insert(tx: Tx, ...actions: AiAction[]): Promise<void> {
    if (!actions.length) return;
    const rows = actions.map((action) => {
      const view = toView(action);
      return {
        tenant_id: action.submission.tenantId,
        id: view.id,
        type: view.type,
        agent_id: view.agent.id,
        risk: view.risk,
        status: view.status,
        auto_approved: view.status === 'auto_approved',
        version: action.version,
        view,
        created_at: view.createdAt,
        expires_at: view.expiresAt,
      };
    });
    // One statement: the steps' foreign key is checked at its end, when the projections exist.
    await tx.query(
      `WITH projections AS (
         INSERT INTO ai_actions (tenant_id, id, type, agent_id, risk, status, auto_approved,
                                 version, view, created_at, expires_at, updated_at)
         SELECT r.tenant_id, r.id, r.type, r.agent_id, r.risk, r.status, r.auto_approved,
                r.version, r.view, r.created_at, r.expires_at, r.created_at
         FROM jsonb_to_recordset($1::jsonb) AS r(tenant_id uuid, id uuid, type text,
              agent_id text, risk text, status text, auto_approved boolean, version int,
              view jsonb, created_at timestamptz, expires_at timestamptz))
       ${APPEND_STEPS('$2')}`,
      [
        JSON.stringify(rows),
        stepRows(actions.flatMap((a) => a.newSteps.map((step) => ({ action: a, step })))),
      ],
      'ai_action_insert_many',
    );
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
    await this.appendSteps(
      tx,
      action.newSteps.map((step) => ({ action, step })),
    );
    const view = toView(action);
    await tx.query(
      `UPDATE ai_actions SET status = $3, version = $4, view = $5, updated_at = $6
       WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id, view.status, action.version, view, view.updatedAt],
      'ai_action_save',
    );
  }

  private async appendSteps(tx: Tx, steps: NewStep[]) {
    if (!steps.length) return;
    await tx.query(APPEND_STEPS('$1'), [stepRows(steps)], 'ai_action_steps_append_many');
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
   * Serialises the budget checks of these (tenant, type, agent) keys across every API process
   * until commit, so two submissions cannot both take the last auto-approval of a window. The
   * locks are taken in one order (by their hash) everywhere, so two batches never deadlock.
   */
  async lockBudgets(tx: Tx, keys: BudgetKey[]): Promise<void> {
    if (!keys.length) return;
    await tx.query(
      `SELECT count(pg_advisory_xact_lock(h)) FROM (
         SELECT DISTINCT hashtextextended(k.t || '/' || k.ty || '/' || k.ag, 0) AS h
         FROM unnest($1::text[], $2::text[], $3::text[]) AS k(t, ty, ag) ORDER BY h) l`,
      [keys.map((k) => k.tenantId), keys.map((k) => k.type), keys.map((k) => k.agentId)],
      'ai_budget_lock_many',
    );
  }

  /** Auto-approved actions per key created after its `since`, in the keys' order. */
  async countAutoApproved(tx: Tx, keys: (BudgetKey & { since: Date })[]): Promise<number[]> {
    if (!keys.length) return [];
    const rows = await tx.query<{ n: number }>(
      `SELECT (SELECT count(*)::int FROM ai_actions a
               WHERE a.tenant_id = k.t AND a.type = k.ty AND a.agent_id = k.ag AND a.auto_approved
                 AND a.created_at > k.since) AS n
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[]) WITH ORDINALITY
            AS k(t, ty, ag, since, i)
       ORDER BY k.i`,
      [
        keys.map((k) => k.tenantId),
        keys.map((k) => k.type),
        keys.map((k) => k.agentId),
        keys.map((k) => k.since.toISOString()),
      ],
      'ai_budget_count_many',
    );
    return rows.map((r) => r.n);
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
