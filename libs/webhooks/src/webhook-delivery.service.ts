import { Injectable } from '@nestjs/common';
import { AuthContext, Database, DomainError, encodeCursor, IdGenerator, Page } from '@app/platform';
import { EventStore } from '@app/events';
import { actorOf } from '@app/identity';
import { matchesEventType } from './event-type-pattern';
import { DeliveryScheduler } from './delivery-scheduler';
import { DeliveryStatus } from './dto/endpoint.dto';
import {
  DeliveryRow,
  DueDelivery,
  NewDelivery,
  WebhookDeliveryRepository,
} from './webhook-delivery.repository';
import { WebhookEndpointRepository } from './webhook-endpoint.repository';

const RECOVER_PAGE = 1000;

export function toDeliveryView(d: DeliveryRow, attempts: Record<string, unknown>[]) {
  return {
    id: d.id,
    endpointId: d.endpoint_id,
    eventId: d.event_id,
    eventType: d.event_type,
    status: d.status,
    attemptCount: d.attempt_count,
    nextAttemptAt: d.next_attempt_at?.toISOString() ?? null,
    createdAt: d.created_at.toISOString(),
    attempts,
  };
}

/** The delivery log, manual retries and recovery after an outage. */
@Injectable()
export class WebhookDeliveryService {
  constructor(
    private readonly db: Database,
    private readonly repo: WebhookDeliveryRepository,
    private readonly endpoints: WebhookEndpointRepository,
    private readonly store: EventStore,
    private readonly scheduler: DeliveryScheduler,
    private readonly ids: IdGenerator,
  ) {}

  async list(
    auth: AuthContext,
    endpointId: string,
    status: DeliveryStatus | undefined,
    before: string | null,
    limit: number,
  ): Promise<Page<ReturnType<typeof toDeliveryView>>> {
    if (!(await this.endpoints.get(auth.tenantId, endpointId)))
      throw DomainError.notFound('Webhook endpoint');
    const rows = await this.repo.list(auth.tenantId, endpointId, status, before, limit + 1);
    const page = rows.slice(0, limit);
    const attempts = await this.repo.attemptsFor(
      auth.tenantId,
      page.map((d) => d.id),
    );
    const byDelivery = new Map<string, Record<string, unknown>[]>();
    for (const a of attempts) {
      const list = byDelivery.get(a.delivery_id) ?? [];
      list.push({
        attemptedAt: a.attempted_at.toISOString(),
        statusCode: a.status_code,
        durationMs: a.duration_ms,
        error: a.error,
        responseBody: a.response_body,
      });
      byDelivery.set(a.delivery_id, list);
    }
    return {
      data: page.map((d) => toDeliveryView(d, byDelivery.get(d.id) ?? [])),
      nextCursor: rows.length > limit ? encodeCursor({ id: page[page.length - 1].id }) : null,
    };
  }

  /** Sends one delivery again now, whatever its state (unless its endpoint is disabled). */
  async retry(auth: AuthContext, deliveryId: string) {
    const delivery = await this.repo.get(auth.tenantId, deliveryId);
    if (!delivery) throw DomainError.notFound('Delivery');
    const endpoint = await this.endpoints.get(auth.tenantId, delivery.endpoint_id);
    if (!endpoint) throw DomainError.notFound('Delivery');
    const status = endpoint.status === 'enabled' ? 'pending' : 'waiting';
    const [due] = await this.db.query<DueDelivery>(
      `UPDATE webhook_deliveries SET status = $3, next_attempt_at = CASE WHEN $3 = 'pending' THEN now() END,
              updated_at = now()
       WHERE tenant_id = $1 AND id = $2 RETURNING tenant_id, id, endpoint_id, attempt_count`,
      [auth.tenantId, deliveryId, status],
    );
    if (status === 'pending') await this.scheduler.enqueue([due], `m${Date.now()}`);
    return { id: deliveryId, status };
  }

  /**
   * Re-sends every failed or waiting delivery since `since` (with a fresh retry schedule) and
   * creates deliveries for matching events since then that the endpoint never had.
   */
  async recover(auth: AuthContext, endpointId: string, since: Date) {
    const result = await this.db.transaction(async (tx) => {
      const endpoint = await this.endpoints.find(tx, auth.tenantId, endpointId, true);
      if (!endpoint) throw DomainError.notFound('Webhook endpoint');
      const status = endpoint.status === 'enabled' ? 'pending' : 'waiting';
      const resent = await tx.query(
        `UPDATE webhook_deliveries d SET status = $4, attempt_count = 0, updated_at = now(),
                next_attempt_at = CASE WHEN $4 = 'pending' THEN now() END
         FROM events e
         WHERE d.tenant_id = $1 AND d.endpoint_id = $2 AND d.status IN ('failed', 'waiting')
           AND e.tenant_id = d.tenant_id AND e.id = d.event_id AND e.received_at >= $3
         RETURNING d.id`,
        [auth.tenantId, endpointId, since, status],
      );
      let created = 0;
      let after = 0;
      for (;;) {
        const events = await tx.query<{ id: string; type: string; position: number }>(
          `SELECT id, type, position FROM events WHERE tenant_id = $1 AND received_at >= $2 AND position > $3
           ORDER BY position LIMIT $4`,
          [auth.tenantId, since, after, RECOVER_PAGE],
        );
        const rows: NewDelivery[] = events
          .filter((e) => matchesEventType(endpoint.event_types, e.type))
          .map((e) => ({
            id: this.ids.next(),
            endpointId,
            eventId: e.id,
            eventType: e.type,
            status,
          }));
        created += (await this.repo.insertMany(tx, auth.tenantId, rows)).length;
        if (events.length < RECOVER_PAGE) break;
        after = events[events.length - 1].position;
      }
      await this.store.record(tx, {
        tenantId: auth.tenantId,
        type: 'webhook.endpoint.recovered',
        subject: `webhook_endpoint/${endpointId}`,
        actor: actorOf(auth),
        data: { endpointId, since: since.toISOString(), resent: resent.length, created },
      });
      const due =
        status === 'pending' ? await this.repo.dueForEndpoint(tx, auth.tenantId, endpointId) : [];
      return { resent: resent.length, created, due };
    });
    await this.scheduler.enqueue(result.due, `m${Date.now()}`);
    return {
      endpointId,
      since: since.toISOString(),
      resent: result.resent,
      created: result.created,
    };
  }

  /** After enable: queue what just moved from waiting to pending. */
  async enqueueDue(tenantId: string, endpointId: string): Promise<void> {
    await this.scheduler.enqueueDue(tenantId, endpointId, `m${Date.now()}`);
  }
}
