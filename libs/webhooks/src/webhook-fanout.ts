import { Injectable } from '@nestjs/common';
import { IdGenerator, QueueName, Tx } from '@app/platform';
import { isChainOnlyType, StoredEvent, StreamConsumer, StreamConsumerDeps } from '@app/events';
import { matchesEventType } from './event-type-pattern';
import { DueDelivery, NewDelivery } from './delivery';
import { DeliveryScheduler } from './delivery-scheduler';
import { EndpointLanes } from './endpoint-lanes';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import { WebhookEndpointRepository } from './webhook-endpoint.repository';
import { isDirectOnlyType } from './test-event';

/**
 * Matches each tenant's new events against its endpoints and creates one delivery per match
 * (unique per event and endpoint): `pending` for an enabled endpoint, `waiting` for a disabled
 * one (sent once it is enabled), none for a deleted one. Only fast-lane pending deliveries
 * become jobs.
 *
 * An endpoint receives the events after its `startsAfterPosition` (see
 * WebhookEndpointService): the base class reads the batch's events before `consume` reads the
 * endpoints, and an endpoint is committed before any event positioned after it, so an endpoint
 * created while fan-out runs misses none of its events and gets none from before it.
 */
@Injectable()
export class WebhookFanout extends StreamConsumer<DueDelivery[]> {
  readonly queue = QueueName.Fanout as const;
  protected override readonly batchSize = 1000;

  constructor(
    deps: StreamConsumerDeps,
    private readonly endpoints: WebhookEndpointRepository,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly scheduler: DeliveryScheduler,
    private readonly ids: IdGenerator,
    private readonly lanes: EndpointLanes,
  ) {
    super(deps);
  }

  /**
   * A tenant without endpoints (enabled or disabled) owes no deliveries: its cursor may skip to
   * the head it had before this check (StreamConsumer reads it first), and an endpoint created
   * after that read starts after a later position, so the skip takes nothing from it.
   */
  protected override async hasWork(tx: Tx, tenantId: string): Promise<boolean> {
    return (await this.endpoints.receiving(tx, tenantId)).length > 0;
  }

  protected async consume(tx: Tx, tenantId: string, events: StoredEvent[]): Promise<DueDelivery[]> {
    // Read after the events, on purpose: see the class comment.
    const endpoints = await this.endpoints.receiving(tx, tenantId);
    if (!endpoints.length) return [];
    for (const endpoint of endpoints) this.lanes.learn(endpoint.id, endpoint.slowUntil);
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
        });
      }
    }
    return this.deliveries.insertMany(tx, tenantId, rows);
  }

  /** A slow endpoint's new deliveries wait in PostgreSQL, where the slow lane takes them. */
  protected override afterCommit(_tenantId: string, created: DueDelivery[]): Promise<void> {
    return this.scheduler.enqueue(
      created.filter((d) => d.status === 'pending' && !this.lanes.isSlow(d.endpointId)),
      'a',
    );
  }
}
