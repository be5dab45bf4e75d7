import { Injectable } from '@nestjs/common';
import {
  AuthContext,
  Clock,
  Database,
  DomainError,
  encodeCursor,
  IdGenerator,
  Page,
} from '@app/platform';
import { EventReader, EventStore } from '@app/events';
import { actorOf } from '@app/identity';
import { matchesEventType } from './event-type-pattern';
import { Attempt, Delivery, DueDelivery, NewDelivery } from './delivery';
import { DeliveryScheduler } from './delivery-scheduler';
import { DeliveryStatus } from './dto/endpoint.dto';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import { WebhookEndpointRepository } from './webhook-endpoint.repository';
import { isDirectOnlyType, TEST_EVENT_MESSAGE, TEST_EVENT_TYPE } from './test-event';

const RECOVER_PAGE = 1000;

export function toDeliveryView(d: Delivery, attempts: Attempt[]) {
  return {
    id: d.id,
    endpointId: d.endpointId,
    eventId: d.eventId,
    eventType: d.eventType,
    status: d.status,
    attemptCount: d.attemptCount,
    nextAttemptAt: d.nextAttemptAt?.toISOString() ?? null,
    createdAt: d.createdAt.toISOString(),
    attempts: attempts.map((a) => ({
      attemptedAt: a.attemptedAt.toISOString(),
      statusCode: a.statusCode,
      durationMs: a.durationMs,
      error: a.error,
      responseBody: a.responseBody,
    })),
  };
}

/** The delivery log, manual retries and recovery after an outage. */
@Injectable()
export class WebhookDeliveryService {
  constructor(
    private readonly db: Database,
    private readonly repo: WebhookDeliveryRepository,
    private readonly endpoints: WebhookEndpointRepository,
    private readonly events: EventReader,
    private readonly store: EventStore,
    private readonly scheduler: DeliveryScheduler,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
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
    const byDelivery = new Map<string, Attempt[]>();
    for (const a of attempts) {
      const list = byDelivery.get(a.deliveryId) ?? [];
      list.push(a);
      byDelivery.set(a.deliveryId, list);
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
    const endpoint = await this.endpoints.get(auth.tenantId, delivery.endpointId);
    if (!endpoint) throw DomainError.notFound('Delivery');
    const status = endpoint.status === 'enabled' ? 'pending' : 'waiting';
    const due = await this.repo.resend(auth.tenantId, deliveryId, status);
    if (due && status === 'pending') await this.scheduler.enqueue([due], `m${Date.now()}`);
    return { id: deliveryId, status };
  }

  /**
   * Re-sends every failed or waiting delivery since `since` (with a fresh retry schedule) and
   * creates deliveries for matching events since then that the endpoint never had. The endpoint
   * row is locked first, before any of its deliveries, as every endpoint change (enable, PATCH,
   * rotate-secret, DELETE) and the attempt recorder's failure path do: they queue on that one
   * row instead of deadlocking (test/webhooks-concurrency.e2e-spec.ts).
   */
  async recover(auth: AuthContext, endpointId: string, since: Date) {
    const { tenantId } = auth;
    const result = await this.db.transaction(async (tx) => {
      const endpoint = await this.endpoints.find(tx, tenantId, endpointId, true);
      if (!endpoint) throw DomainError.notFound('Webhook endpoint');
      const status = endpoint.status === 'enabled' ? 'pending' : 'waiting';
      let resent = 0;
      let created = 0;
      let after = 0;
      for (;;) {
        const events = await this.events.since(tenantId, since, after, RECOVER_PAGE, tx);
        const matching = events.filter(
          (e) => !isDirectOnlyType(e.type) && matchesEventType(endpoint.eventTypes, e.type),
        );
        // Resend first: the deliveries created next are new, not failed or waiting.
        resent += await this.repo.resendForEvents(
          tx,
          tenantId,
          endpointId,
          events.map((e) => e.id),
          status,
        );
        const rows: NewDelivery[] = matching.map((e) => ({
          id: this.ids.next(),
          endpointId,
          eventId: e.id,
          eventType: e.type,
          status,
        }));
        created += (await this.repo.insertMany(tx, tenantId, rows)).length;
        if (events.length < RECOVER_PAGE) break;
        after = events[events.length - 1].position;
      }
      await this.store.record(tx, {
        tenantId,
        type: 'webhook.endpoint.recovered',
        subject: `webhook_endpoint/${endpointId}`,
        actor: actorOf(auth),
        data: { endpointId, since: since.toISOString(), resent, created },
      });
      const due: DueDelivery[] =
        status === 'pending' ? await this.repo.dueForEndpoint(tx, tenantId, endpointId) : [];
      return { resent, created, due };
    });
    await this.scheduler.enqueue(result.due, `m${Date.now()}`);
    return {
      endpointId,
      since: since.toISOString(),
      resent: result.resent,
      created: result.created,
    };
  }

  /**
   * Records a `webhook.endpoint.test` event and creates its delivery to this endpoint, whatever
   * the endpoint's event types (see test-event.ts): `waiting` while the endpoint is disabled.
   */
  async sendTest(auth: AuthContext, endpointId: string) {
    const { tenantId } = auth;
    const eventId = this.ids.next();
    const id = this.ids.next();
    const { status, due } = await this.db.transaction(async (tx) => {
      const endpoint = await this.endpoints.find(tx, tenantId, endpointId, true);
      if (!endpoint) throw DomainError.notFound('Webhook endpoint');
      const now = this.clock.now();
      await this.store.append(tx, [
        {
          tenantId,
          id: eventId,
          type: TEST_EVENT_TYPE,
          subject: `webhook_endpoint/${endpointId}`,
          actor: actorOf(auth),
          actingAsTenantId: null,
          occurredAt: now,
          receivedAt: now,
          data: { endpointId, message: TEST_EVENT_MESSAGE },
        },
      ]);
      const state = endpoint.status === 'enabled' ? 'pending' : 'waiting';
      const row: NewDelivery = {
        id,
        endpointId,
        eventId,
        eventType: TEST_EVENT_TYPE,
        status: state,
      };
      return { status: state, due: await this.repo.insertMany(tx, tenantId, [row]) };
    });
    // Only the one delivery just created: the endpoint's others are queued already.
    if (status === 'pending') await this.scheduler.enqueue(due, `t${Date.now()}`);
    return { id, status, endpointId, eventId, eventType: TEST_EVENT_TYPE };
  }

  /** After enable: queue what just moved from waiting to pending. */
  async enqueueDue(tenantId: string, endpointId: string): Promise<void> {
    await this.scheduler.enqueueDue(tenantId, endpointId, `m${Date.now()}`);
  }
}
