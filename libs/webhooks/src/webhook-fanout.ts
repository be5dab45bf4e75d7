import { Injectable } from '@nestjs/common';
import { IdGenerator, QueueName, Tx } from '@app/platform';
import { isChainOnlyType, StoredEvent, StreamConsumer, StreamConsumerDeps } from '@app/events';
import { matchesEventType } from './event-type-pattern';
import { DeliveryScheduler } from './delivery-scheduler';
import { EndpointLanes } from './endpoint-lanes';
import { DueDelivery, NewDelivery, WebhookDeliveryRepository } from './webhook-delivery.repository';
import { WebhookEndpointRepository } from './webhook-endpoint.repository';

/**
 * Matches each tenant's new events against its enabled endpoints and creates one delivery per
 * match (unique per event and endpoint), then enqueues them. An endpoint only receives events
 * that arrived after it was created (older ones only through `recover`). Only fast-lane
 * deliveries become jobs.
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

  /** A tenant without enabled endpoints owes no deliveries: skip reading its events at all. */
  protected override async hasWork(tx: Tx, tenantId: string): Promise<boolean> {
    return (await this.endpoints.enabled(tx, tenantId)).length > 0;
  }

  protected async consume(tx: Tx, tenantId: string, events: StoredEvent[]): Promise<DueDelivery[]> {
    const endpoints = await this.endpoints.enabled(tx, tenantId);
    if (!endpoints.length) return [];
    for (const endpoint of endpoints) this.lanes.learn(endpoint.id, endpoint.slow_until);
    const rows: NewDelivery[] = [];
    for (const event of events) {
      if (isChainOnlyType(event.type)) continue;
      for (const endpoint of endpoints) {
        if (endpoint.created_at > event.receivedAt) continue;
        if (!matchesEventType(endpoint.event_types, event.type)) continue;
        rows.push({
          id: this.ids.next(),
          endpointId: endpoint.id,
          eventId: event.id,
          eventType: event.type,
          status: 'pending',
        });
      }
    }
    return this.deliveries.insertMany(tx, tenantId, rows);
  }

  /** A slow endpoint's new deliveries wait in PostgreSQL, where the slow lane takes them. */
  protected override afterCommit(_tenantId: string, created: DueDelivery[]): Promise<void> {
    return this.scheduler.enqueue(
      created.filter((d) => !this.lanes.isSlow(d.endpoint_id)),
      'a',
    );
  }
}
