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
import { Actor, EventStore } from '@app/events';
import { actorOf, KeyMaterial } from '@app/identity';
import { SecurityError, SsrfGuard } from '@app/security';
import { CreateEndpointDto, UpdateEndpointDto } from './dto/endpoint.dto';
import { EndpointRow, WebhookEndpointRepository } from './webhook-endpoint.repository';
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

export function toEndpointView(r: EndpointRow): EndpointView {
  return {
    id: r.id,
    url: r.url,
    eventTypes: r.event_types,
    description: r.description,
    rateLimitPerSecond: r.rate_limit_per_second,
    status: r.status,
    disabledReason: r.disabled_reason,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

/** Endpoint lifecycle. Every change is an event in the same transaction, so it is audited. */
@Injectable()
export class WebhookEndpointService {
  constructor(
    private readonly db: Database,
    private readonly repo: WebhookEndpointRepository,
    private readonly store: EventStore,
    private readonly keys: KeyMaterial,
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
        tenant_id: auth.tenantId,
        id,
        url,
        event_types: [...new Set(dto.eventTypes)],
        description: dto.description ?? null,
        rate_limit_per_second: dto.rateLimitPerSecond ?? null,
        secret_sealed: this.keys.secretBox.seal(secret),
        secret_key_id: this.keys.secretBox.currentKeyId,
        created_at: this.clock.now(),
      });
      return { row: created, type: 'webhook.endpoint.created', data: this.auditable(created) };
    });
    return { ...toEndpointView(row), secret };
  }

  async get(auth: AuthContext, id: string): Promise<EndpointView> {
    return toEndpointView(await this.must(this.repo.get(auth.tenantId, id)));
  }

  async update(auth: AuthContext, id: string, dto: UpdateEndpointDto): Promise<EndpointView> {
    const set: Record<string, unknown> = {};
    if (dto.url !== undefined) set.url = await this.checkedUrl(dto.url);
    if (dto.eventTypes !== undefined) set.event_types = [...new Set(dto.eventTypes)];
    if (dto.description !== undefined) set.description = dto.description;
    if (dto.rateLimitPerSecond !== undefined) set.rate_limit_per_second = dto.rateLimitPerSecond;
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
      const row = await this.repo.update(tx, auth.tenantId, id, { deleted_at: this.clock.now() });
      await tx.query(
        `UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, updated_at = now()
         WHERE tenant_id = $1 AND endpoint_id = $2 AND status IN ('pending', 'waiting')`,
        [auth.tenantId, id],
      );
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
        previous_secret_sealed: current.secret_sealed,
        previous_secret_key_id: current.secret_key_id,
        previous_secret_expires_at: overlapEnds,
        secret_sealed: this.keys.secretBox.seal(secret),
        secret_key_id: this.keys.secretBox.currentKeyId,
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
        disabled_reason: null,
        consecutive_failures: 0,
        failing_since: null,
      });
      await tx.query(
        `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), updated_at = now()
         WHERE tenant_id = $1 AND endpoint_id = $2 AND status = 'waiting'`,
        [auth.tenantId, id],
      );
      return { row: updated, type: 'webhook.endpoint.enabled', data: { endpointId: id } };
    });
    return toEndpointView(row);
  }

  /** Called by the dispatcher: consecutive failures or 410 Gone. */
  async disable(tenantId: string, id: string, reason: string): Promise<boolean> {
    let changed = false;
    await this.change(tenantId, { type: 'system', id: 'ledgerline' }, async (tx) => {
      const current = await this.repo.find(tx, tenantId, id, true);
      if (!current || current.status === 'disabled') return null;
      changed = true;
      const row = await this.repo.update(tx, tenantId, id, {
        status: 'disabled',
        disabled_reason: reason,
      });
      await tx.query(
        `UPDATE webhook_deliveries SET status = 'waiting', next_attempt_at = NULL, updated_at = now()
         WHERE tenant_id = $1 AND endpoint_id = $2 AND status = 'pending'`,
        [tenantId, id],
      );
      return {
        row,
        type: 'webhook.endpoint.disabled',
        data: { endpointId: id, url: row.url, reason },
      };
    });
    return changed;
  }

  /** The secrets that sign a delivery now: the current one, plus the previous during its overlap. */
  signingSecrets(row: EndpointRow): string[] {
    const secrets = [this.keys.secretBox.open(row.secret_sealed)];
    if (
      row.previous_secret_sealed &&
      row.previous_secret_expires_at &&
      row.previous_secret_expires_at > this.clock.now()
    ) {
      secrets.push(this.keys.secretBox.open(row.previous_secret_sealed));
    }
    return secrets;
  }

  async list(auth: AuthContext, afterId: string | null, limit: number): Promise<EndpointRow[]> {
    return this.repo.list(auth.tenantId, afterId, limit);
  }

  private async change(
    tenantId: string,
    actor: Actor,
    work: (
      tx: Tx,
    ) => Promise<{ row: EndpointRow; type: string; data: Record<string, unknown> } | null>,
  ): Promise<EndpointRow> {
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
      }
      return outcome;
    });
    return result?.row as EndpointRow;
  }

  private auditable(r: EndpointRow): Record<string, unknown> {
    return {
      endpointId: r.id,
      url: r.url,
      eventTypes: r.event_types,
      description: r.description,
      rateLimitPerSecond: r.rate_limit_per_second,
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
