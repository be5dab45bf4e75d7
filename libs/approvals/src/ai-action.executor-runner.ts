import { Injectable, Logger } from '@nestjs/common';
import { Clock, Database } from '@app/platform';
import { ActionRef, AiActionRepository } from './ai-action.repository';
import { AiActionService } from './ai-action.service';
import { AiPolicyRepository } from './ai-policy.repository';
import { ExecutionResult } from './executors/ai-action-executor';
import { ExecutorRegistry } from './executors/executor-registry';

export type RunResult = 'executed' | 'paused' | 'nothing';

/**
 * Runs an approved action's in-process executor at most once: `executing` is committed before
 * the executor starts, so a crash mid-way leaves the action executing, never run twice.
 */
@Injectable()
export class ExecutorRunner {
  private readonly logger = new Logger(ExecutorRunner.name);

  constructor(
    private readonly db: Database,
    private readonly repo: AiActionRepository,
    private readonly policies: AiPolicyRepository,
    private readonly actions: AiActionService,
    private readonly executors: ExecutorRegistry,
    private readonly clock: Clock,
  ) {}

  async run(ref: ActionRef): Promise<RunResult> {
    const started = await this.db.transaction(async (tx) => {
      if ((await this.policies.settingsForShare(tx, ref.tenantId)).paused) return 'paused';
      if (!(await this.repo.tryLock(tx, ref.tenantId, ref.id))) return null;
      const action = await this.repo.load(tx, ref.tenantId, ref.id);
      if (!action || !['approved', 'auto_approved'].includes(action.status)) return null;
      const executor = this.executors.find(action.submission.type);
      if (!executor) return null;
      action.startExecution(this.clock.now().toISOString());
      await this.actions.persist(tx, action);
      return { action, executor };
    });
    if (started === 'paused') return 'paused';
    if (!started) return 'nothing';
    const { action, executor } = started;
    let result: ExecutionResult;
    try {
      result = await executor.execute({
        tenantId: ref.tenantId,
        actionId: ref.id,
        type: action.submission.type,
        input: action.input,
        inputHash: action.inputHash,
      });
    } catch (err) {
      this.logger.warn(`executor ${executor.type} failed for ${ref.id}: ${(err as Error).message}`);
      result = { status: 'failed', output: { error: 'executor_error' } };
    }
    await this.actions.change(ref.tenantId, ref.id, (a) =>
      a.complete({
        principal: null,
        status: result.status,
        output: result.output,
        usage: result.usage ?? null,
        at: this.clock.now().toISOString(),
      }),
    );
    return 'executed';
  }
}
