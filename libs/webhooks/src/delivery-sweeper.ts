import { Injectable } from '@nestjs/common';
import { Periodic } from '@app/platform';
import { DeliveryScheduler } from './delivery-scheduler';

/** Re-queues overdue deliveries on the worker's timer (after a Redis flush or a crash). */
@Injectable()
export class DeliverySweeper {
  constructor(readonly scheduler: DeliveryScheduler) {}

  @Periodic(
    'webhook-delivery-sweeper',
    (self: DeliverySweeper) => self.scheduler.config.WEBHOOK_SWEEP_EVERY_MS,
  )
  sweep(): Promise<number> {
    return this.scheduler.sweep();
  }
}
