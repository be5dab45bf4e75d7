import { Injectable } from '@nestjs/common';
import { AuthContext, Clock, Database, DomainError, IdGenerator, Tx } from '@app/platform';
import { EventStore } from '@app/events';
import { AiAction, DecisionRequest } from './ai-action';
import { eventsOf } from './ai-action.events';
import { ActionFilter, ActionRef, AiActionRepository } from './ai-action.repository';
import { Principal } from './ai-action.types';
import { AiActionDetail, AiActionView, toView } from './ai-action.view';
import { AiActionScheduler } from './ai-action.scheduler';
import { AiSubmissions } from './ai-action.submissions';
import { AiPolicyRepository } from './ai-policy.repository';
import { DecisionDto, OutcomeDto, ReviseInputDto, SubmitActionDto } from './dto/ai-action.dto';
import { ExecutorRegistry } from './executors/executor-registry';
import { ReceiptSigners } from './receipt-signer';

export const MAX_INPUT_BYTES = 64 * 1024;

/** The key, or the signed-in user of a console session. */
const keyPrincipal = (auth: AuthContext): Principal =>
  auth.userId ? { type: 'user', id: auth.userId } : { type: 'api_key', id: auth.keyId };

/** Answers the value's JSON length in characters. */
function checkSize(field: string, value: object): number {
  const json = JSON.stringify(value);
  if (Buffer.byteLength(json) > MAX_INPUT_BYTES) {
    throw new DomainError('payload_too_large', `${field} is larger than ${MAX_INPUT_BYTES} bytes`);
  }
  return json.length;
}

/**
 * The AI-action commands. Each is one unit of work: lock the action's row, replay its steps,
 * let the domain decide, append the new steps, move the projection and record the events, then
 * commit. The row lock gives every race on one action exactly one winner.
 */
@Injectable()
export class AiActionService {
  constructor(
    private readonly db: Database,
    private readonly repo: AiActionRepository,
    private readonly policies: AiPolicyRepository,
    private readonly store: EventStore,
    private readonly submissions: AiSubmissions,
    private readonly signers: ReceiptSigners,
    private readonly executors: ExecutorRegistry,
    private readonly scheduler: AiActionScheduler,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
  ) {}

  /** Group-committed with the submissions arriving meanwhile (AiSubmissions). */
  async submit(auth: AuthContext, dto: SubmitActionDto): Promise<AiActionView> {
    const inputChars = checkSize('input', dto.input);
    const sign = await this.signers.signer();
    const action = await this.submissions.submit({
      auth,
      dto,
      id: this.ids.next(),
      sign,
      inputChars,
    });
    return toView(action);
  }

  revise(auth: AuthContext, id: string, dto: ReviseInputDto): Promise<AiActionView> {
    checkSize('input', dto.input);
    return this.change(auth.tenantId, id, (action) => {
      if (action.submission.submitterKeyId !== auth.keyId) {
        throw new DomainError('not_submitter', 'Only the submitting key may revise this action');
      }
      action.revise(keyPrincipal(auth), dto.input, dto.rationale ?? null, this.at());
    });
  }

  async decide(auth: AuthContext, id: string, dto: DecisionDto): Promise<AiActionView> {
    if (dto.input) checkSize('input', dto.input);
    const sign = await this.signers.signer();
    return this.change(
      auth.tenantId,
      id,
      (action, paused) => {
        const req: DecisionRequest = {
          principal: keyPrincipal(auth),
          decision: dto.decision,
          reason: dto.reason ?? null,
          inputHash: dto.inputHash,
          input: dto.decision === 'approve' ? dto.input : undefined,
          paused,
          at: this.at(),
          sign,
        };
        action.decide(req);
      },
      true,
    );
  }

  outcome(auth: AuthContext, id: string, dto: OutcomeDto): Promise<AiActionView> {
    if (dto.usage) checkSize('usage', dto.usage);
    checkSize('output', dto.output);
    return this.change(auth.tenantId, id, (action) => {
      if (this.executors.find(action.submission.type)) {
        throw new DomainError('not_executable', 'This action type is executed by Ledgerline');
      }
      action.complete({
        principal: keyPrincipal(auth),
        status: dto.status,
        output: dto.output,
        usage: dto.usage ?? null,
        inputHash: dto.inputHash,
        at: this.at(),
      });
    });
  }

  /** Expires a pending action past its deadline; false when there is nothing to do. */
  async expire(ref: ActionRef): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      if (!(await this.repo.lock(tx, ref.tenantId, ref.id))) return false;
      const action = await this.repo.load(tx, ref.tenantId, ref.id);
      const at = this.at();
      if (!action || action.status !== 'pending_approval' || at < action.submission.expiresAt) {
        return false;
      }
      action.expire(at);
      await this.persist(tx, action);
      return true;
    });
  }

  async get(tenantId: string, id: string): Promise<AiActionDetail> {
    const action = await this.repo.load(this.db, tenantId, id);
    if (!action) throw DomainError.notFound('AI action');
    return { ...toView(action), history: action.historyView() };
  }

  list(tenantId: string, filter: ActionFilter, afterId: string | null, limit: number) {
    return this.repo.list(tenantId, filter, afterId, limit);
  }

  /** Runs `command` on the locked, replayed action and persists what it did. */
  async change(
    tenantId: string,
    id: string,
    command: (action: AiAction, paused: boolean) => void,
    readPause = false,
  ): Promise<AiActionView> {
    const action = await this.db.transaction(async (tx) => {
      // The kill switch is read (and held against a concurrent pause) before the action's lock.
      const paused = readPause
        ? (await this.policies.settingsForShare(tx, tenantId)).paused
        : false;
      if (!(await this.repo.lock(tx, tenantId, id))) throw DomainError.notFound('AI action');
      const loaded = await this.repo.load(tx, tenantId, id);
      if (!loaded) throw DomainError.notFound('AI action');
      command(loaded, paused);
      await this.persist(tx, loaded);
      return loaded;
    });
    return toView(action);
  }

  async persist(tx: Tx, action: AiAction): Promise<void> {
    await this.repo.save(tx, action);
    await this.store.record(tx, ...eventsOf(action));
    this.afterCommit(tx, action);
  }

  /** Redis is an accelerator: the sweepers redo these from PostgreSQL if they are lost. */
  private afterCommit(tx: Tx, action: AiAction): void {
    const ref = { tenantId: action.submission.tenantId, id: action.id };
    if (action.status === 'pending_approval' && action.newSteps.some((s) => s.seq === 1)) {
      tx.afterCommit(() => this.scheduler.scheduleExpiry(ref, action.submission.expiresAt));
    }
    const approved = action.status === 'approved' || action.status === 'auto_approved';
    if (approved && this.executors.find(action.submission.type)) {
      tx.afterCommit(() => this.scheduler.scheduleExecution(ref));
    }
  }

  private at(): string {
    return this.clock.now().toISOString();
  }
}
