import { Injectable } from '@nestjs/common';
import {
  AuthContext,
  Clock,
  Database,
  DomainError,
  IdGenerator,
  LedgerlineConfig,
  Tx,
} from '@app/platform';
import { Actor, EventReader, EventStore } from '@app/events';
import { actorOf } from '@app/identity';
import { SecurityError, SsrfGuard } from '@app/security';
import { CreateEndpointDto, UpdateEndpointDto } from './dto/endpoint.dto';
import { EndpointSecrets } from './endpoint-secrets';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import { EndpointChange, WebhookEndpoint } from './webhook-endpoint';
import { WebhookEndpointRepository } from './webhook-endpoint.repository';
import { generateSecret } from './webhook-signer';

export interface EndpointView {
  id: string;
  url: string;
  eventTypes: string[];
  description: string | null;
  rateLimitPerSecond: number | null;
  status: 'enabled' | 'disabled';
  disabledReason: string | null;
  createdAt: string;
  updatedAt: string;
}

export function toEndpointView(e: WebhookEndpoint): EndpointView {
  return {
    id: e.id,
    url: e.url,
    eventTypes: e.eventTypes,
    description: e.description,
    rateLimitPerSecond: e.rateLimitPerSecond,
    status: e.status,
    disabledReason: e.disabledReason,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

/** Endpoint lifecycle. Every change is an event in the same transaction, so it is audited. */
@Injectable()
export class WebhookEndpointService {
  constructor(
    private readonly db: Database,
    private readonly repo: WebhookEndpointRepository,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly store: EventStore,
    private readonly events: EventReader,
    private readonly secrets: EndpointSecrets,
    private readonly ssrf: SsrfGuard,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly config: LedgerlineConfig,
  ) {}

  async create(
    auth: AuthContext,
    dto: CreateEndpointDto,
  ): Promise<EndpointView & { secret: string }> {
    const url = await this.checkedUrl(dto.url);
    const secret = generateSecret();
    const id = this.ids.next();
    const row = await this.change(auth.tenantId, actorOf(auth), async (tx) => {
      const created = await this.repo.insert(tx, {
        tenantId: auth.tenantId,
        id,
        url,
        eventTypes: [...new Set(dto.eventTypes)],
        description: dto.description ?? null,
        rateLimitPerSecond: dto.rateLimitPerSecond ?? null,
        secretSealed: this.secrets.seal(auth.tenantId, id, secret),
        secretKeyId: this.secrets.currentKeyId,
        createdAt: this.clock.now(),
      });
      return {
        row: created,
        type: 'webhook.endpoint.created',
        data: this.auditable(created),
        afterRecord: (tx2: Tx) => this.startAtOwnCreation(tx2, created),
      };
    });
    return { ...toEndpointView(row), secret };
  }

  async get(auth: AuthContext, id: string): Promise<EndpointView> {
    return toEndpointView(await this.must(this.repo.get(auth.tenantId, id)));
  }

  async update(auth: AuthContext, id: string, dto: UpdateEndpointDto): Promise<EndpointView> {
    const set: EndpointChange = {};
    if (dto.url !== undefined) set.url = await this.checkedUrl(dto.url);
    if (dto.eventTypes !== undefined) set.eventTypes = [...new Set(dto.eventTypes)];
    if (dto.description !== undefined) set.description = dto.description;
    if (dto.rateLimitPerSecond !== undefined) set.rateLimitPerSecond = dto.rateLimitPerSecond;
    const row = await this.change(auth.tenantId, actorOf(auth), async (tx) => {
      await this.must(this.repo.find(tx, auth.tenantId, id, true));
      const updated = Object.keys(set).length
        ? await this.repo.update(tx, auth.tenantId, id, set)
        : await this.must(this.repo.find(tx, auth.tenantId, id));
      return { row: updated, type: 'webhook.endpoint.updated', data: this.auditable(updated) };
    });
    return toEndpointView(row);
  }

  async remove(auth: AuthContext, id: string): Promise<void> {
    await this.change(auth.tenantId, actorOf(auth), async (tx) => {
      await this.must(this.repo.find(tx, auth.tenantId, id, true));
      const row = await this.repo.update(tx, auth.tenantId, id, { deletedAt: this.clock.now() });
      await this.deliveries.failOpen(tx, auth.tenantId, id);
      return { row, type: 'webhook.endpoint.deleted', data: { endpointId: id } };
    });
  }

  /** New secret now; the old one keeps signing alongside it for the overlap window. */
  async rotateSecret(auth: AuthContext, id: string): Promise<{ secret: string }> {
    const secret = generateSecret();
    await this.change(auth.tenantId, actorOf(auth), async (tx) => {
      const current = await this.must(this.repo.find(tx, auth.tenantId, id, true));
      const overlapEnds = new Date(
        this.clock.now().getTime() + this.config.WEBHOOK_SECRET_OVERLAP_SECONDS * 1000,
      );
      const row = await this.repo.update(tx, auth.tenantId, id, {
        previousSecretSealed: current.secretSealed,
        previousSecretKeyId: current.secretKeyId,
        previousSecretExpiresAt: overlapEnds,
        secretSealed: this.secrets.seal(auth.tenantId, id, secret),
        secretKeyId: this.secrets.currentKeyId,
      });
      return {
        row,
        type: 'webhook.endpoint.secret_rotated',
        data: { endpointId: id, previousSecretExpiresAt: overlapEnds.toISOString() },
      };
    });
    return { secret };
  }

  /** Re-enables and sends every delivery that waited while the endpoint was disabled. */
  async enable(auth: AuthContext, id: string): Promise<EndpointView> {
    const row = await this.change(auth.tenantId, actorOf(auth), async (tx) => {
      await this.must(this.repo.find(tx, auth.tenantId, id, true));
      const updated = await this.repo.update(tx, auth.tenantId, id, {
        status: 'enabled',
        disabledReason: null,
        consecutiveFailures: 0,
        failingSince: null,
      });
      await this.deliveries.releaseWaiting(tx, auth.tenantId, id);
      return { row: updated, type: 'webhook.endpoint.enabled', data: { endpointId: id } };
    });
    return toEndpointView(row);
  }

  async list(auth: AuthContext, afterId: string | null, limit: number): Promise<WebhookEndpoint[]> {
    return this.repo.list(auth.tenantId, afterId, limit);
  }

  private async change(
    tenantId: string,
    actor: Actor,
    work: (tx: Tx) => Promise<{
      row: WebhookEndpoint;
      type: string;
      data: Record<string, unknown>;
      afterRecord?: (tx: Tx) => Promise<WebhookEndpoint>;
    } | null>,
  ): Promise<WebhookEndpoint> {
    const result = await this.db.transaction(async (tx) => {
      const outcome = await work(tx);
      if (outcome) {
        await this.store.record(tx, {
          tenantId,
          type: outcome.type,
          subject: `webhook_endpoint/${outcome.row.id}`,
          actor,
          data: outcome.data,
        });
        if (outcome.afterRecord) outcome.row = await outcome.afterRecord(tx);
      }
      return outcome;
    });
    return result?.row as WebhookEndpoint;
  }

  /**
   * A new endpoint receives the events after the position just before its own
   * webhook.endpoint.created event. That position was reserved under the tenant's stream row
   * lock, held until this transaction commits: every later event is committed after the
   * endpoint, so fan-out, which reads events before endpoints, sees the endpoint whenever it sees
   * such an event; and every earlier one is left out, whatever fan-out was doing meanwhile.
   */
  private async startAtOwnCreation(tx: Tx, created: WebhookEndpoint): Promise<WebhookEndpoint> {
    const ownEvent = await this.events.head(created.tenantId, tx);
    return this.repo.update(tx, created.tenantId, created.id, {
      startsAfterPosition: ownEvent - 1,
    });
  }

  private auditable(r: WebhookEndpoint): Record<string, unknown> {
    return {
      endpointId: r.id,
      url: r.url,
      eventTypes: r.eventTypes,
      description: r.description,
      rateLimitPerSecond: r.rateLimitPerSecond,
    };
  }

  private async checkedUrl(raw: string): Promise<string> {
    try {
      return (await this.ssrf.check(raw)).url.toString();
    } catch (err) {
      if (err instanceof SecurityError) {
        throw err.code === 'validation_failed'
          ? DomainError.invalid('url', err.message)
          : new DomainError('unsafe_url', err.message, [{ field: 'url', message: err.message }]);
      }
      throw err;
    }
  }

  private async must<T>(value: Promise<T | null> | T | null): Promise<T> {
    const resolved = await value;
    if (!resolved) throw DomainError.notFound('Webhook endpoint');
    return resolved;
  }
}
