import { Injectable } from '@nestjs/common';
import { Job } from 'bullmq';
import {
  AiActionJob,
  Clock,
  JobProcessor,
  Periodic,
  QueueName,
  QueueProcessor,
} from '@app/platform';
import { AiActionRepository } from './ai-action.repository';
import { AiActionScheduler } from './ai-action.scheduler';
import { AiActionService } from './ai-action.service';
import { ExecutorRunner } from './ai-action.executor-runner';
import { ExecutorRegistry } from './executors/executor-registry';

const SWEEP_MS = 2000;
const SWEEP_BATCH = 500;

/** Expires one action at its deadline (a delayed job). Idempotent: only a due, pending action moves. */
@Injectable()
@JobProcessor()
export class AiExpiryProcessor implements QueueProcessor<QueueName.AiExpiry> {
  readonly queue = QueueName.AiExpiry as const;
  readonly concurrency = 8;

  constructor(
    private readonly actions: AiActionService,
    private readonly repo: AiActionRepository,
    private readonly clock: Clock,
  ) {}

  async process(job: Job<AiActionJob>): Promise<void> {
    await this.actions.expire({ tenantId: job.data.tenantId, id: job.data.actionId });
  }

  /**
   * Reads PostgreSQL every 2 s, so an action expires within seconds of its deadline also when
   * its delayed job was lost (Redis flushed) or the worker was down past the deadline.
   */
  @Periodic('ai-expiry-sweep', SWEEP_MS)
  async sweep(): Promise<number> {
    const due = await this.repo.dueForExpiry(this.clock.now(), SWEEP_BATCH);
    let expired = 0;
    for (const ref of due) if (await this.actions.expire(ref)) expired++;
    return expired;
  }
}

/** Runs approved actions of types with an in-process executor. */
@Injectable()
@JobProcessor()
export class AiExecutionProcessor implements QueueProcessor<QueueName.AiExecution> {
  readonly queue = QueueName.AiExecution as const;
  readonly concurrency = 8;
  private slot = 0;

  constructor(
    private readonly runner: ExecutorRunner,
    private readonly repo: AiActionRepository,
    private readonly executors: ExecutorRegistry,
    private readonly scheduler: AiActionScheduler,
  ) {}

  async process(job: Job<AiActionJob>): Promise<void> {
    await this.runner.run({ tenantId: job.data.tenantId, id: job.data.actionId });
  }

  /** Re-adds the approved actions PostgreSQL says are still owed (a lost job, a pause lifted). */
  @Periodic('ai-execution-sweep', 5000)
  async sweep(): Promise<number> {
    const owed = await this.repo.executable(this.executors.types(), SWEEP_BATCH);
    const cause = `s${this.slot++ % 1000}`;
    await Promise.all(owed.map((ref) => this.scheduler.scheduleExecution(ref, cause)));
    return owed.length;
  }
}
