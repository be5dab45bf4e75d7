import { Injectable } from '@nestjs/common';
import { Periodic } from '@app/platform';
import { DeliveryScheduler, SWEEP_EVERY_MS } from './delivery-scheduler';

/** Re-queues overdue deliveries on the worker's timer (after a Redis flush or a crash). */
@Injectable()
export class DeliverySweeper {
  constructor(private readonly scheduler: DeliveryScheduler) {}

  @Periodic('webhook-delivery-sweeper', SWEEP_EVERY_MS)
  sweep(): Promise<number> {
    return this.scheduler.sweep();
  }
}
