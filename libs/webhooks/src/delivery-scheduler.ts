import { Injectable } from '@nestjs/common';
import { Database, JobIds, LedgerlineConfig, QueueName, QueueRegistry } from '@app/platform';
import { DueDelivery } from './delivery';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';

/**
 * Puts delivery attempts on the queue. Job ids are deterministic per attempt and cause, so
 * repeated adds are no-ops; the claim in the dispatcher makes a duplicate job harmless anyway.
 * The sweeper re-enqueues what PostgreSQL says is overdue (after a Redis flush, a crash, or a
 * lease that ran out).
 */
@Injectable()
export class DeliveryScheduler {
  constructor(
    private readonly queues: QueueRegistry,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly db: Database,
    readonly config: LedgerlineConfig,
  ) {}

  /**
   * cause: 'a' automatic (a retry), 'm' manual (retry, enable, recover), 's…' sweeper, 'h…' a
   * fresh delivery held too long, 'l…' a fresh delivery rate limited (see WebhookDispatcher).
   */
  async enqueue(due: DueDelivery[], cause: string, delayMs = 0): Promise<void> {
    await this.queues.addBulk(
      QueueName.Delivery,
      due.map((d) => ({
        jobId: JobIds.delivery(d.id, d.attemptCount, cause),
        data: {
          tenantId: d.tenantId,
          deliveryId: d.id,
          attempt: d.attemptCount,
          endpointId: d.endpointId,
          eventId: d.eventId,
        },
        opts: delayMs > 0 ? { delay: delayMs } : undefined,
      })),
    );
  }

  /** Queues every due delivery of one endpoint (after enable, or back from the slow lane). */
  async enqueueDue(tenantId: string, endpointId: string, cause: string): Promise<void> {
    await this.enqueue(await this.deliveries.dueForEndpoint(this.db, tenantId, endpointId), cause);
  }

  async sweep(): Promise<number> {
    // A backlog in Redis is normal; only work overdue this long is presumed lost (flush, crash).
    const overdue = await this.deliveries.overdue(this.config.WEBHOOK_SWEEP_GRACE_MS, 1000);
    await this.enqueue(overdue, `s${Math.floor(Date.now() / this.config.WEBHOOK_SWEEP_EVERY_MS)}`);
    return overdue.length;
  }
}
