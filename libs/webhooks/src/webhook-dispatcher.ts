import { Injectable } from '@nestjs/common';
import { DelayedError, Job } from 'bullmq';
import {
  BatchedCall,
  DeliveryJob,
  IdGenerator,
  LedgerlineConfig,
  Metrics,
  JobProcessor,
  QueueName,
  QueueProcessor,
} from '@app/platform';
import { EventReader, StoredEvent } from '@app/events';
import { AttemptRecorder } from './attempt-recorder';
import { attemptLeaseMs, ClaimedAttempt, DueDelivery } from './delivery';
import { EndpointSnapshots } from './endpoint-snapshots';
import { DeliveryHandoff, FreshDelivery } from './delivery-handoff';
import { DeliveryScheduler } from './delivery-scheduler';
import { EndpointLanes, FAST_LANE_SLOTS, LaneSlot } from './endpoint-lanes';
import { EndpointRateLimiter } from './endpoint-rate-limiter';
import { SlowLane } from './slow-lane';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import { failed, SentAttempt, WebhookSender } from './webhook-sender';

export { webhookBody } from './webhook-sender';

/**
 * Runs delivery attempts: admits each to a lane, waits for the endpoint's rate limit, sends it,
 * records it (where its consequences are decided: see AttemptRecorder) and then schedules the
 * next attempt if one is still owed. Two lanes: the fast lane runs fan-out's fresh deliveries
 * (DeliveryHandoff) and the delivery queue's jobs (retries, manual sends, what the sweeper
 * found); the slow lane (SlowLane) takes slow endpoints' due deliveries straight from PostgreSQL.
 */
@Injectable()
@JobProcessor()
export class WebhookDispatcher implements QueueProcessor<QueueName.Delivery> {
  readonly queue = QueueName.Delivery as const;
  readonly concurrency = FAST_LANE_SLOTS;
  private readonly leaseMs: number;
  private readonly freshForMs: number;
  // Concurrent attempts load their events together: one query per tenant per batch.
  private readonly eventLoads = new BatchedCall<EventKey, StoredEvent | null>((keys) =>
    this.loadEvents(keys),
  );

  constructor(
    config: LedgerlineConfig,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly events: EventReader,
    private readonly scheduler: DeliveryScheduler,
    private readonly sender: WebhookSender,
    private readonly rateLimiter: EndpointRateLimiter,
    private readonly lanes: EndpointLanes,
    private readonly slowLane: SlowLane,
    handoff: DeliveryHandoff,
    private readonly snapshots: EndpointSnapshots,
    private readonly recorder: AttemptRecorder,
    private readonly ids: IdGenerator,
    private readonly metrics: Metrics,
  ) {
    this.leaseMs = attemptLeaseMs(config);
    // A fresh delivery's lease must outlast its attempt: half the margin is left for delays.
    this.freshForMs = config.WEBHOOK_LEASE_MARGIN_MS / 2;
    this.slowLane.serve(this.leaseMs, (claimed) => this.deliverInSlowLane(claimed));
    handoff.serve((fresh) => this.deliverFresh(fresh));
  }

  async process(job: Job<DeliveryJob>, token?: string): Promise<void> {
    const { tenantId, deliveryId, attempt, endpointId, eventId } = job.data;
    // A slow endpoint's delivery stays due in PostgreSQL, where the slow lane takes it.
    const slot = await this.lanes.admit(tenantId, endpointId);
    if (!slot) return;
    // The event loads while the claim runs: one round trip less on every attempt's path.
    const event = eventId ? this.loadEvent(tenantId, eventId) : undefined;
    try {
      // A stale or duplicate job, a disabled endpoint or a delivery that moved on claims nothing.
      const claimed = await this.deliveries.claimForAttempt(
        tenantId,
        deliveryId,
        attempt,
        this.leaseMs,
      );
      if (!claimed) return;
      this.lanes.learn(endpointId, claimed.endpoint.slowUntil);
      const wait = await this.rateLimiter.wait(claimed.endpoint);
      if (wait > 0) {
        await this.deliveries.unclaim(tenantId, deliveryId, attempt);
        await job.moveToDelayed(Date.now() + wait, token);
        throw new DelayedError();
      }
      await this.deliver(claimed, slot, claimed.eventId === eventId ? event : undefined);
    } finally {
      slot.release();
    }
  }

  /**
   * A fresh delivery, claimed by fan-out, with its event and endpoint in hand. The endpoint as
   * fan-out read it holds every change committed before the event; a later one (a disable, a
   * delete, a new URL or secret) reaches the attempt through a snapshot at most SNAPSHOT_MS old.
   * Given back (due again) when its endpoint turned slow, when too little of its lease is left
   * for an attempt, or when it is rate limited (then queued after the wait); dropped when its
   * endpoint is deleted or disabled, whose deliveries were failed or parked with it.
   */
  private async deliverFresh(fresh: FreshDelivery): Promise<void> {
    const { due, event, claimedAt } = fresh;
    const { tenantId, id, endpointId, attemptCount } = due;
    const slot = await this.lanes.admit(tenantId, endpointId);
    if (!slot) return this.deliveries.unclaim(tenantId, id, attemptCount);
    try {
      const latest = await this.snapshots.current(tenantId, endpointId);
      const endpoint =
        latest && latest.updatedAt > fresh.endpoint.updatedAt ? latest : fresh.endpoint;
      if (!latest || endpoint.status !== 'enabled') return;
      this.lanes.learn(endpointId, endpoint.slowUntil);
      if (Date.now() - claimedAt > this.freshForMs) return await this.requeue(due, `h${claimedAt}`);
      const wait = await this.rateLimiter.wait(endpoint);
      if (wait > 0) return await this.requeue(due, `l${Date.now() + wait}`, wait);
      const claimed = { deliveryId: id, attempt: attemptCount, endpoint, eventId: due.eventId };
      await this.deliver(claimed, slot, Promise.resolve(event));
    } finally {
      slot.release();
    }
  }

  /** Gives a fresh delivery's claim back and queues it as a job (after `delayMs`). */
  private async requeue(due: DueDelivery, cause: string, delayMs = 0): Promise<void> {
    await this.deliveries.unclaim(due.tenantId, due.id, due.attemptCount);
    await this.scheduler.enqueue([due], cause, delayMs);
  }

  private async deliverInSlowLane(claimed: ClaimedAttempt): Promise<void> {
    // Another worker (or this one before a restart) may have marked it: learnt here, a quick
    // answer brings it back to the fast lane instead of leaving it slow for the whole mark.
    this.lanes.learn(claimed.endpoint.id, claimed.endpoint.slowUntil);
    if ((await this.rateLimiter.wait(claimed.endpoint)) > 0) {
      await this.deliveries.unclaim(claimed.endpoint.tenantId, claimed.deliveryId, claimed.attempt);
      return;
    }
    await this.deliver(claimed);
  }

  private async deliver(
    claimed: ClaimedAttempt,
    slot?: LaneSlot,
    loading?: Promise<StoredEvent | null>,
  ): Promise<void> {
    const { endpoint, deliveryId, eventId } = claimed;
    const { tenantId } = endpoint;
    slot?.sending();
    const event = await (loading ?? this.loadEvent(tenantId, eventId));
    const sent = event
      ? await this.sender.send(endpoint, deliveryId, event)
      : failed('event_erased', Date.now());
    const backToFastLane = await this.lanes.observe(
      tenantId,
      endpoint.id,
      sent.durationMs,
      laneResult(sent),
    );
    await this.record(claimed, sent);
    if (event && sent.error === null) {
      this.metrics.deliveryLatency.observe((Date.now() - event.receivedAt.getTime()) / 1000);
    }
    if (backToFastLane) await this.scheduler.enqueueDue(tenantId, endpoint.id, `f${Date.now()}`);
  }

  /** Batched with the other attempts' loads; a failed load surfaces only where it is awaited. */
  private loadEvent(tenantId: string, id: string): Promise<StoredEvent | null> {
    const loading = this.eventLoads.call({ tenantId, id });
    loading.catch(() => undefined);
    return loading;
  }

  private async loadEvents(keys: EventKey[]): Promise<(StoredEvent | null)[]> {
    const idsByTenant = new Map<string, string[]>();
    for (const k of keys) {
      const ids = idsByTenant.get(k.tenantId) ?? [];
      ids.push(k.id);
      idsByTenant.set(k.tenantId, ids);
    }
    const loaded = await Promise.all(
      [...idsByTenant].map(([tenantId, ids]) => this.events.byIds(tenantId, ids)),
    );
    const byKey = new Map(loaded.flat().map((e) => [`${e.tenantId}/${e.id}`, e]));
    return keys.map((k) => byKey.get(`${k.tenantId}/${k.id}`) ?? null);
  }

  /** Records the attempt, then queues the next one only if the decision left it pending. */
  private async record(claimed: ClaimedAttempt, sent: SentAttempt): Promise<void> {
    const { endpoint, deliveryId, attempt } = claimed;
    this.metrics.deliveries.inc({ outcome: sent.error ?? 'succeeded' });
    const { moved, decision } = await this.recorder.record({
      tenantId: endpoint.tenantId,
      attemptId: this.ids.next(),
      deliveryId,
      endpointId: endpoint.id,
      attempt,
      result: sent,
      durationMs: sent.durationMs,
      responseBody: sent.body,
    });
    if (moved) this.metrics.deliveryStatus.inc({ status: decision.status });
    if (!moved || decision.status !== 'pending' || decision.delayMs === null) return;
    const delay = decision.delayMs;
    await this.scheduler.enqueue(
      [
        {
          tenantId: endpoint.tenantId,
          id: deliveryId,
          endpointId: endpoint.id,
          eventId: claimed.eventId,
          attemptCount: attempt + 1,
          status: 'pending',
        },
      ],
      `a${Date.now() + delay}`,
      delay,
    );
  }
}

interface EventKey {
  tenantId: string;
  id: string;
}

function laneResult(sent: SentAttempt): 'answered' | 'timeout' | 'error' {
  if (sent.statusCode !== null) return 'answered';
  return sent.error === 'timeout' ? 'timeout' : 'error';
}
