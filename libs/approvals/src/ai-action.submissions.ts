import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { AuthContext, Clock, Database, GroupCommit, Tx } from '@app/platform';
import { EventStore } from '@app/events';
import { AiAction } from './ai-action';
import { eventsOf } from './ai-action.events';
import { AiActionRepository, BudgetKey } from './ai-action.repository';
import { AiActionScheduler } from './ai-action.scheduler';
import { Receipt, ReceiptSigner, Submission } from './ai-action.types';
import { AiPolicyRepository, AiSettings } from './ai-policy.repository';
import { SubmitActionDto } from './dto/ai-action.dto';
import { ExecutorRegistry } from './executors/executor-registry';
import { inputHashOf } from './input-hash';
import { AiPolicy, RiskPolicy } from './risk-policy';

const DEFAULT_EXPIRY_SECONDS = 72 * 3600;
// One batch's rows travel as one JSON document per table; inputs are at most 64 KiB each.
const MAX_SUBMISSIONS_PER_COMMIT = 500;
const MAX_INPUT_CHARS_PER_COMMIT = 8 * 1024 * 1024;

/** One accepted POST /v1/ai-actions, validated, waiting for its batch. */
export interface SubmitRequest {
  auth: AuthContext;
  dto: SubmitActionDto;
  id: string;
  sign: ReceiptSigner;
  /** JSON length of the input, already measured by the size check. */
  inputChars: number;
}

interface BatchContext {
  now: Date;
  settings: Map<string, AiSettings>;
  policies: Map<string, AiPolicy>;
  /** Auto-approvals used per budget key, counted under the key's lock and taken as the batch goes. */
  used: Map<string, number>;
}

const policyKey = (tenantId: string, type: string) => `${tenantId}/${type}`;
const budgetKeyOf = (r: SubmitRequest): BudgetKey => ({
  tenantId: r.auth.tenantId,
  type: r.dto.type,
  agentId: r.dto.agent.id,
});
const budgetSlot = (k: BudgetKey) => `${k.tenantId}/${k.type}/${k.agentId}`;
const unique = <T>(items: T[], key: (t: T) => string): T[] => [
  ...new Map(items.map((i) => [key(i), i])).values(),
];

/**
 * Submissions, group-committed: every submission appends to its tenant's event stream, whose row
 * stays locked until commit, so one commit per request would serialise a tenant's submissions
 * at one commit time each. Those that arrive while a batch commits are judged and written
 * together in the next one. Each batch reads the kill switch FOR SHARE and takes the budget
 * locks (one order everywhere) before it counts, so the invariants hold across API processes
 * exactly as they did one request at a time.
 */
@Injectable()
export class AiSubmissions implements OnApplicationShutdown {
  private readonly commits: GroupCommit<SubmitRequest, AiAction>;

  constructor(
    db: Database,
    private readonly repo: AiActionRepository,
    private readonly policies: AiPolicyRepository,
    private readonly store: EventStore,
    private readonly executors: ExecutorRegistry,
    private readonly scheduler: AiActionScheduler,
    private readonly clock: Clock,
  ) {
    this.commits = new GroupCommit<SubmitRequest, AiAction>(db, (tx, b) => this.write(tx, b), {
      limits: [
        { weigh: () => 1, max: MAX_SUBMISSIONS_PER_COMMIT },
        { weigh: (r) => r.inputChars, max: MAX_INPUT_CHARS_PER_COMMIT },
      ],
    });
  }

  /** A request whose client hung up can still be queued: finish it before the pool closes. */
  onApplicationShutdown(): Promise<void> {
    return this.commits.drain();
  }

  submit(request: SubmitRequest): Promise<AiAction> {
    return this.commits.submit(request);
  }

  private async write(tx: Tx, batch: SubmitRequest[]): Promise<AiAction[]> {
    const ctx = await this.context(tx, batch);
    const actions = batch.map((r) => this.judge(ctx, r));
    await this.repo.insert(tx, ...actions);
    await this.store.record(tx, ...actions.flatMap(eventsOf));
    tx.afterCommit(() => this.schedule(actions));
    return actions;
  }

  /** The kill switch, the policies and the budgets' counts, for the whole batch at once. */
  private async context(tx: Tx, batch: SubmitRequest[]): Promise<BatchContext> {
    const now = this.clock.now();
    const tenants = [...new Set(batch.map((r) => r.auth.tenantId))];
    const settings = await this.policies.settingsForShareMany(tx, tenants);
    const pairs = unique(
      batch.map((r) => ({ tenantId: r.auth.tenantId, type: r.dto.type })),
      (p) => policyKey(p.tenantId, p.type),
    );
    const policies = await this.policies.findMany(tx, pairs);
    const keys = unique(
      batch.flatMap((r) => {
        const budget = this.budgetOf({ settings, policies }, r);
        if (!budget) return [];
        const since = new Date(now.getTime() - budget.windowSeconds * 1000);
        return [{ ...budgetKeyOf(r), since }];
      }),
      budgetSlot,
    );
    await this.repo.lockBudgets(tx, keys);
    const counts = await this.repo.countAutoApproved(tx, keys);
    const used = new Map(keys.map((k, i) => [budgetSlot(k), counts[i]]));
    return { now, settings, policies, used };
  }

  /** The budget this submission is counted against, if any (autonomous, low, not paused). */
  private budgetOf(ctx: Pick<BatchContext, 'settings' | 'policies'>, r: SubmitRequest) {
    const policy = ctx.policies.get(policyKey(r.auth.tenantId, r.dto.type)) ?? null;
    const risk = RiskPolicy.finalRisk(policy, r.dto.proposedRisk ?? null);
    const paused = ctx.settings.get(r.auth.tenantId)?.paused ?? false;
    if (paused || r.dto.initiator !== 'autonomous' || risk !== 'low') return null;
    return policy?.autoApprove ?? null;
  }

  private judge(ctx: BatchContext, r: SubmitRequest): AiAction {
    const { auth, dto, id } = r;
    const policy = ctx.policies.get(policyKey(auth.tenantId, dto.type)) ?? null;
    const budget = this.budgetOf(ctx, r);
    const slot = budgetSlot(budgetKeyOf(r));
    const overBudget = budget !== null && (ctx.used.get(slot) ?? 0) >= budget.max;
    const j = RiskPolicy.judge({
      policy,
      proposedRisk: dto.proposedRisk ?? null,
      initiator: dto.initiator,
      paused: ctx.settings.get(auth.tenantId)?.paused ?? false,
      overBudget,
    });
    if (budget && j.status === 'auto_approved') ctx.used.set(slot, (ctx.used.get(slot) ?? 0) + 1);
    const inputHash = inputHashOf(dto.type, dto.input, j.risk, j.policyVersion);
    const at = ctx.now.toISOString();
    const receipt: Receipt | null =
      j.status === 'auto_approved'
        ? r.sign({
            actionId: id,
            tenantId: auth.tenantId,
            type: dto.type,
            inputHash,
            policyVersion: j.policyVersion,
            approvers: [],
            approvedAt: at,
          })
        : null;
    const expiresInMs = (dto.expiresInSeconds ?? DEFAULT_EXPIRY_SECONDS) * 1000;
    const submission: Submission = {
      tenantId: auth.tenantId,
      id,
      type: dto.type,
      initiator: dto.initiator,
      agent: { id: dto.agent.id, model: dto.agent.model ?? null },
      requestedBy: dto.requestedBy ?? null,
      submitterKeyId: auth.keyId,
      rationale: dto.rationale ?? null,
      input: dto.input,
      ...j,
      expiresAt: new Date(ctx.now.getTime() + expiresInMs).toISOString(),
      inputHash,
      receipt,
    };
    return AiAction.submit(submission, at);
  }

  /** Redis is an accelerator: the sweepers redo these from PostgreSQL if they are lost. */
  private schedule(actions: AiAction[]): void {
    const refOf = (a: AiAction) => ({ tenantId: a.submission.tenantId, id: a.id });
    this.scheduler.scheduleExpiries(
      actions
        .filter((a) => a.status === 'pending_approval')
        .map((a) => ({ ref: refOf(a), expiresAt: a.submission.expiresAt })),
    );
    for (const a of actions) {
      if (a.status === 'auto_approved' && this.executors.find(a.submission.type)) {
        void this.scheduler.scheduleExecution(refOf(a));
      }
    }
  }
}
