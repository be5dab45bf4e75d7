import { Injectable } from '@nestjs/common';
import { QueueName } from '@app/platform';

/** An attempt slower than this puts its endpoint in the slow lane for a while. */
const SLOW_MS = 1000;
const SLOW_FOR_MS = 60000;

export type DeliveryQueue = QueueName.Delivery | QueueName.DeliverySlow;

/**
 * Which lane an endpoint's attempts take. Endpoints that answered slowly (or not at all) of late
 * go to the slow lane, whose workers are separate, so they can never hold the slots healthy
 * endpoints need. Learned per worker process from the attempts it makes.
 */
@Injectable()
export class EndpointLanes {
  private readonly slowUntil = new Map<string, number>();

  isSlow(endpointId: string): boolean {
    const until = this.slowUntil.get(endpointId);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.slowUntil.delete(endpointId);
    return false;
  }

  queueFor(endpointId: string): DeliveryQueue {
    return this.isSlow(endpointId) ? QueueName.DeliverySlow : QueueName.Delivery;
  }

  observe(endpointId: string, durationMs: number, timedOut: boolean): void {
    if (timedOut || durationMs >= SLOW_MS) this.slowUntil.set(endpointId, Date.now() + SLOW_FOR_MS);
    else if (durationMs < SLOW_MS / 4) this.slowUntil.delete(endpointId);
  }
}
