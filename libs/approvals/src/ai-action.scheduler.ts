import { Injectable, Logger } from '@nestjs/common';
import { JobIds, QueueName, QueueRegistry } from '@app/platform';
import { ActionRef } from './ai-action.repository';

/**
 * Adds an action's jobs after its commit. These are accelerators: a lost add (Redis down, a
 * crash after commit) is covered by the sweepers, which read PostgreSQL.
 */
@Injectable()
export class AiActionScheduler {
  private readonly logger = new Logger(AiActionScheduler.name);

  constructor(private readonly queues: QueueRegistry) {}

  scheduleExpiry(ref: ActionRef, expiresAt: string): void {
    const delay = Math.max(0, Date.parse(expiresAt) - Date.now());
    this.queues
      .add(
        QueueName.AiExpiry,
        JobIds.aiExpiry(ref.tenantId, ref.id),
        { tenantId: ref.tenantId, actionId: ref.id },
        { delay },
      )
      .catch((err: Error) => this.logger.warn(`expiry job not added: ${err.message}`));
  }

  /** Expiry jobs for a batch of new pending actions, in one round trip. */
  scheduleExpiries(items: { ref: ActionRef; expiresAt: string }[]): void {
    if (!items.length) return;
    const now = Date.now();
    this.queues
      .addBulk(
        QueueName.AiExpiry,
        items.map(({ ref, expiresAt }) => ({
          jobId: JobIds.aiExpiry(ref.tenantId, ref.id),
          data: { tenantId: ref.tenantId, actionId: ref.id },
          opts: { delay: Math.max(0, Date.parse(expiresAt) - now) },
        })),
      )
      .catch((err: Error) => this.logger.warn(`expiry jobs not added: ${err.message}`));
  }

  scheduleExecution(ref: ActionRef, cause = 'a'): Promise<void> {
    return this.queues
      .add(QueueName.AiExecution, JobIds.aiExecution(ref.tenantId, ref.id, cause), {
        tenantId: ref.tenantId,
        actionId: ref.id,
      })
      .catch((err: Error) => this.logger.warn(`execution job not added: ${err.message}`));
  }
}
