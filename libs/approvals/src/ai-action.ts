import { DomainError, ErrorCode } from '@app/platform';
import {
  ActionStatus,
  ActionStep,
  HistoryItem,
  Principal,
  Receipt,
  ReceiptSigner,
  StepData,
  Submission,
} from './ai-action.types';
import { inputHashOf } from './input-hash';

/** Every allowed status change; anything else is refused. `pending_approval` may stay pending. */
export const TRANSITIONS: Readonly<Record<ActionStatus, readonly ActionStatus[]>> = {
  pending_approval: ['pending_approval', 'approved', 'rejected', 'expired', 'cancelled'],
  approved: ['executing'],
  auto_approved: ['executing'],
  executing: ['succeeded', 'failed'],
  rejected: [],
  expired: [],
  cancelled: [],
  succeeded: [],
  failed: [],
};

export function canTransition(from: ActionStatus, to: ActionStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

const samePrincipal = (a: Principal, b: Principal) => a.type === b.type && a.id === b.id;

export interface DecisionRequest {
  principal: Principal;
  decision: 'approve' | 'reject';
  reason: string | null;
  inputHash?: string;
  /** Approve with edits: the approver's corrected input. */
  input?: Record<string, unknown>;
  paused: boolean;
  at: string;
  sign: ReceiptSigner;
}

export interface OutcomeRequest {
  /** null: an in-process executor. */
  principal: Principal | null;
  status: 'succeeded' | 'failed';
  output: Record<string, unknown>;
  usage: Record<string, unknown> | null;
  inputHash?: string;
  at: string;
}

/**
 * An AI action, event-sourced: its state is the fold of its steps, and every command checks the
 * transition table, then returns the new steps (also applied here). The caller persists them.
 */
export class AiAction {
  private steps: ActionStep[] = [];
  private pendingSteps: ActionStep[] = [];
  submission!: Submission;
  status!: ActionStatus;
  input!: Record<string, unknown>;
  inputHash!: string;
  revision = 0;
  receipt: Receipt | null = null;

  static replay(steps: ActionStep[]): AiAction {
    const action = new AiAction();
    for (const step of steps) action.apply(step);
    action.pendingSteps = [];
    return action;
  }

  static submit(submission: Submission, at: string): AiAction {
    const action = new AiAction();
    action.record('submitted', at, null, null, submission.inputHash, {
      kind: 'submitted',
      submission,
    });
    return action;
  }

  get id(): string {
    return this.submission.id;
  }

  get version(): number {
    return this.steps.length;
  }

  /** Steps made by commands since replay, to be persisted. */
  get newSteps(): ActionStep[] {
    return this.pendingSteps;
  }

  get history(): ActionStep[] {
    return this.steps;
  }

  /** Principals whose approvals count: those at the current revision. */
  get approvers(): Principal[] {
    return this.decisionsNow()
      .filter((s) => s.kind === 'approved')
      .map((s) => s.principal!);
  }

  revise(by: Principal, input: Record<string, unknown>, rationale: string | null, at: string) {
    this.require('pending_approval', 'not_pending');
    this.recordRevision(by, input, rationale, at);
  }

  decide(req: DecisionRequest): void {
    this.require('pending_approval', 'not_pending');
    this.checkHash(req.inputHash);
    this.checkSeparation(req.principal);
    if (req.decision === 'reject') return this.reject(req);
    const edited = req.input !== undefined;
    const counted = this.approvers.filter((p) => !samePrincipal(p, req.principal));
    if (!edited && counted.length < this.approvers.length) {
      throw new DomainError('already_decided', 'This approver has already decided this action');
    }
    const completes = (edited ? 1 : counted.length + 1) >= this.submission.requiredApprovals;
    if (completes && req.paused) {
      throw new DomainError('ai_paused', 'AI actions are paused: no action can be approved now');
    }
    if (edited) this.recordRevision(req.principal, req.input!, null, req.at);
    const receipt = completes ? this.signReceipt(req, edited ? [] : counted) : null;
    this.record('approved', req.at, req.principal, req.reason, this.inputHash, {
      kind: 'approved',
      receipt,
    });
  }

  expire(at: string): void {
    this.require('pending_approval', 'not_pending');
    if (at < this.submission.expiresAt) {
      throw new DomainError('conflict', 'This action has not reached its deadline');
    }
    this.record('expired', at, null, null, null, { kind: 'expired' });
  }

  cancel(by: Principal, reason: string | null, at: string): void {
    this.require('pending_approval', 'not_pending');
    this.record('cancelled', at, by, reason, null, { kind: 'cancelled' });
  }

  /** approved | auto_approved → executing (the executor starts, at most once). */
  startExecution(at: string): void {
    if (!canTransition(this.status, 'executing')) {
      throw new DomainError('not_executable', `An action that is ${this.status} cannot execute`);
    }
    this.record('executing', at, null, null, this.inputHash, { kind: 'executing' });
  }

  /** The outcome: from approved or auto_approved it passes through executing. */
  complete(req: OutcomeRequest): void {
    if (this.status !== 'executing') this.startExecution(req.at);
    this.checkHash(req.inputHash);
    this.record(req.status, req.at, req.principal, null, this.inputHash, {
      kind: req.status,
      output: req.output,
      usage: req.usage,
    });
  }

  /** The history as SPEC section 6 shows it; decisions of an older revision are void. */
  historyView(): HistoryItem[] {
    return this.steps.map((s) => {
      const item: HistoryItem = { kind: s.kind, at: s.at };
      if (s.principal) item.principal = s.principal;
      if (s.reason !== null) item.reason = s.reason;
      if (s.inputHash !== null) item.inputHash = s.inputHash;
      if (this.isDecision(s)) item.void = s.revision < this.revision;
      return item;
    });
  }

  private reject(req: DecisionRequest): void {
    if (this.decisionsNow().some((s) => samePrincipal(s.principal!, req.principal))) {
      throw new DomainError('already_decided', 'This approver has already decided this action');
    }
    if (!req.reason?.trim()) throw DomainError.invalid('reason', 'a rejection needs a reason');
    this.record('rejected', req.at, req.principal, req.reason, this.inputHash, {
      kind: 'rejected',
    });
  }

  private recordRevision(
    by: Principal,
    input: Record<string, unknown>,
    rationale: string | null,
    at: string,
  ): void {
    const voided = this.decisionsNow().map((s) => s.seq);
    const s = this.submission;
    const hash = inputHashOf(s.type, input, s.risk, s.policyVersion);
    this.record('revised', at, by, rationale, hash, { kind: 'revised', input, rationale, voided });
  }

  private signReceipt(req: DecisionRequest, others: Principal[]): Receipt {
    return req.sign({
      actionId: this.id,
      tenantId: this.submission.tenantId,
      type: this.submission.type,
      inputHash: this.inputHash,
      policyVersion: this.submission.policyVersion,
      approvers: [...others, req.principal],
      approvedAt: req.at,
    });
  }

  private checkHash(inputHash: string | undefined): void {
    if (inputHash !== undefined && inputHash !== this.inputHash) {
      throw new DomainError('input_changed', 'The action input changed since this hash was taken');
    }
  }

  private checkSeparation(p: Principal): void {
    const s = this.submission;
    const ownKey = p.type === 'api_key' && p.id === s.submitterKeyId;
    const ownUser = p.type === 'user' && s.requestedBy !== null && p.id === s.requestedBy;
    if (ownKey || ownUser) {
      throw new DomainError('separation_of_duties', 'The submitter may not decide its own action');
    }
  }

  private require(status: ActionStatus, code: ErrorCode): void {
    if (this.status !== status) {
      throw new DomainError(code, `This action is ${this.status}, not ${status}`);
    }
  }

  private isDecision(s: ActionStep): boolean {
    return s.kind === 'approved' || s.kind === 'rejected';
  }

  private decisionsNow(): ActionStep[] {
    return this.steps.filter((s) => this.isDecision(s) && s.revision === this.revision);
  }

  private record(
    kind: ActionStep['kind'],
    at: string,
    principal: Principal | null,
    reason: string | null,
    inputHash: string | null,
    data: StepData,
  ): void {
    const revision = kind === 'revised' ? this.revision + 1 : this.revision;
    const step: ActionStep = {
      seq: this.steps.length + 1,
      kind,
      at,
      principal,
      reason,
      inputHash,
      revision,
      data,
    };
    this.apply(step);
    this.pendingSteps.push(step);
  }

  /** Folds one step into the state; the transition table is checked here for every step. */
  private apply(step: ActionStep): void {
    const d = step.data;
    if (d.kind === 'submitted') {
      this.submission = d.submission;
      this.status = d.submission.status;
      this.input = d.submission.input;
      this.inputHash = d.submission.inputHash;
      this.receipt = d.submission.receipt;
      this.steps.push(step);
      return;
    }
    const next = this.nextStatus(d);
    if (!canTransition(this.status, next)) {
      throw new Error(`transition ${this.status} -> ${next} is not allowed`);
    }
    this.status = next;
    if (d.kind === 'revised') {
      this.input = d.input;
      this.inputHash = step.inputHash!;
      this.revision = step.revision;
    }
    if (d.kind === 'approved' && d.receipt) this.receipt = d.receipt;
    this.steps.push(step);
  }

  private nextStatus(d: StepData): ActionStatus {
    switch (d.kind) {
      case 'revised':
        return 'pending_approval';
      case 'approved':
        return d.receipt ? 'approved' : 'pending_approval';
      case 'submitted':
        return this.submission.status;
      default:
        return d.kind;
    }
  }
}
