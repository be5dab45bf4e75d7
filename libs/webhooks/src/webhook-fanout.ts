import { Injectable } from '@nestjs/common';
import { IdGenerator, LedgerlineConfig, QueueName, Tx } from '@app/platform';
import { isChainOnlyType, StoredEvent, StreamConsumer, StreamConsumerDeps } from '@app/events';
import { matchesEventType } from './event-type-pattern';
import { attemptLeaseMs, NewDelivery } from './delivery';
import { DeliveryHandoff, FreshDelivery } from './delivery-handoff';
import { EndpointLanes } from './endpoint-lanes';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import { WebhookEndpointRepository } from './webhook-endpoint.repository';
import { isDirectOnlyType } from './test-event';

/**
 * Matches each tenant's new events against its endpoints and creates one delivery per match
 * (unique per event and endpoint): `pending` for an enabled endpoint, `waiting` for a disabled
 * one (sent once it is enabled), none for a deleted one. Fast-lane pending deliveries are
 * created claimed for their first attempt and handed to this worker's dispatcher
 * (DeliveryHandoff); a slow endpoint's stay due for the slow lane.
 *
 * An endpoint receives the events after its `startsAfterPosition` (see
 * WebhookEndpointService): the base class reads the batch's events before `consume` reads the
 * endpoints, and an endpoint is committed before any event positioned after it, so an endpoint
 * created while fan-out runs misses none of its events and gets none from before it.
 */
@Injectable()
export class WebhookFanout extends StreamConsumer<FreshDelivery[]> {
  readonly queue = QueueName.Fanout as const;
  protected override readonly batchSize = 1000;
  private readonly leaseMs: number;

  constructor(
    deps: StreamConsumerDeps,
    private readonly endpoints: WebhookEndpointRepository,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly handoff: DeliveryHandoff,
    private readonly ids: IdGenerator,
    private readonly lanes: EndpointLanes,
    config: LedgerlineConfig,
  ) {
    super(deps);
    this.leaseMs = attemptLeaseMs(config);
  }

  /**
   * A tenant without endpoints (enabled or disabled) owes no deliveries: its cursor may skip to
   * the head it had before this check (StreamConsumer reads it first), and an endpoint created
   * after that read starts after a later position, so the skip takes nothing from it.
   */
  protected override async hasWork(tx: Tx, tenantId: string): Promise<boolean> {
    return (await this.endpoints.receiving(tx, tenantId)).length > 0;
  }

  protected async consume(
    tx: Tx,
    tenantId: string,
    events: StoredEvent[],
  ): Promise<FreshDelivery[]> {
    // Read after the events, on purpose: see the class comment.
    const endpoints = await this.endpoints.receiving(tx, tenantId);
    if (!endpoints.length) return [];
    const handedOff = new Set<string>();
    for (const endpoint of endpoints) {
      this.lanes.learn(endpoint.id, endpoint.slowUntil);
      // A slow endpoint's new deliveries wait in PostgreSQL, where the slow lane takes them.
      if (
        endpoint.status === 'enabled' &&
        !this.lanes.isSlow(endpoint.id) &&
        this.handoff.accepting
      )
        handedOff.add(endpoint.id);
    }
    const rows: NewDelivery[] = [];
    for (const event of events) {
      if (isChainOnlyType(event.type) || isDirectOnlyType(event.type)) continue;
      for (const endpoint of endpoints) {
        if (event.position <= endpoint.startsAfterPosition) continue;
        if (!matchesEventType(endpoint.eventTypes, event.type)) continue;
        rows.push({
          id: this.ids.next(),
          endpointId: endpoint.id,
          eventId: event.id,
          eventType: event.type,
          status: endpoint.status === 'enabled' ? 'pending' : 'waiting',
          leased: handedOff.has(endpoint.id),
        });
      }
    }
    const claimedAt = Date.now();
    const created = await this.deliveries.insertMany(tx, tenantId, rows, this.leaseMs);
    const eventsById = new Map(events.map((e) => [e.id, e]));
    const endpointsById = new Map(endpoints.map((e) => [e.id, e]));
    return created
      .filter((due) => handedOff.has(due.endpointId))
      .map((due) => ({
        due,
        event: eventsById.get(due.eventId)!,
        endpoint: endpointsById.get(due.endpointId)!,
        claimedAt,
      }));
  }

  /** The first attempts, claimed in the transaction that just committed, go to the dispatcher. */
  protected override afterCommit(_tenantId: string, fresh: FreshDelivery[]): Promise<void> {
    return this.handoff.offer(fresh);
  }
}
