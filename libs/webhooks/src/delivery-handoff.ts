import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { StoredEvent } from '@app/events';
import { DueDelivery } from './delivery';
import { FAST_LANE_SLOTS } from './endpoint-lanes';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import { WebhookEndpoint } from './webhook-endpoint';

/** A delivery fan-out just created, already claimed for its first attempt, with its event. */
export interface FreshDelivery {
  due: DueDelivery;
  event: StoredEvent;
  /** As fan-out read it after the event: any change committed before the event is in it. */
  endpoint: WebhookEndpoint;
  /** When the claim was taken (Date.now() before the insert): its lease runs from here. */
  claimedAt: number;
}

/** Fresh deliveries one worker holds before fan-out waits for room. */
export const HANDOFF_HELD = 1024;

/**
 * Fan-out's first attempts, handed to this worker's dispatcher in memory. Fan-out inserts each
 * delivery to an enabled fast-lane endpoint already claimed (leased) for its first attempt, in
 * the transaction that moves its cursor, so an attempt costs no Redis job, no claim statement
 * and no event load. Nothing is lost with this process: an attempt never made is due again
 * when its lease runs out, and the sweeper queues it as a job. Fan-out waits while
 * HANDOFF_HELD are held, so a backlog stays in PostgreSQL, not in memory; on SIGTERM the held
 * ones are given back at once.
 */
@Injectable()
export class DeliveryHandoff implements BeforeApplicationShutdown {
  private readonly logger = new Logger(DeliveryHandoff.name);
  private held: FreshDelivery[] = [];
  private next = 0;
  private readonly running = new Set<Promise<void>>();
  private readonly roomWaiters: (() => void)[] = [];
  private attempt?: (fresh: FreshDelivery) => Promise<void>;
  private closed = false;

  constructor(private readonly deliveries: WebhookDeliveryRepository) {}

  /** True once a dispatcher serves it: fan-out claims only what will be attempted here. */
  get accepting(): boolean {
    return this.attempt !== undefined && !this.closed;
  }

  /** The dispatcher says how to make one attempt (a failure only logs: the lease runs out). */
  serve(attempt: (fresh: FreshDelivery) => Promise<void>): void {
    this.attempt = attempt;
  }

  /** Resolves once the deliveries are held (or given back, after SIGTERM). */
  async offer(fresh: FreshDelivery[]): Promise<void> {
    while (fresh.length && this.heldCount() >= HANDOFF_HELD && this.accepting) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
    if (!this.accepting) return this.giveBack(fresh);
    this.held.push(...fresh);
    this.pump();
  }

  /** SIGTERM: the held deliveries are due again now; attempts on the wire finish first. */
  async beforeApplicationShutdown(): Promise<void> {
    this.closed = true;
    const held = this.held.slice(this.next);
    this.held = [];
    this.next = 0;
    for (const wake of this.roomWaiters.splice(0)) wake();
    await Promise.all([this.giveBack(held), ...this.running]);
  }

  private async giveBack(fresh: FreshDelivery[]): Promise<void> {
    await Promise.all(
      fresh.map(({ due }) => this.deliveries.unclaim(due.tenantId, due.id, due.attemptCount)),
    ).catch((err: Error) =>
      this.logger.warn(`held deliveries wait for their lease: ${err.message}`),
    );
  }

  private heldCount(): number {
    return this.held.length - this.next;
  }

  private pump(): void {
    while (this.running.size < FAST_LANE_SLOTS && this.heldCount() > 0 && !this.closed) {
      const fresh = this.take();
      const run: Promise<void> = this.attempt!(fresh)
        .catch((err: Error) =>
          this.logger.warn(`attempt of delivery ${fresh.due.id} failed: ${err.message}`),
        )
        .finally(() => {
          this.running.delete(run);
          this.pump();
        });
      this.running.add(run);
    }
    if (this.heldCount() < HANDOFF_HELD) for (const wake of this.roomWaiters.splice(0)) wake();
  }

  private take(): FreshDelivery {
    const fresh = this.held[this.next++];
    // Compacted now and then, so taking from the front costs O(1) on average.
    if (this.next >= 1024 && this.next * 2 >= this.held.length) {
      this.held = this.held.slice(this.next);
      this.next = 0;
    }
    return fresh;
  }
}
