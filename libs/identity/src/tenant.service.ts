import { Injectable } from '@nestjs/common';
import { Clock, Database, IdGenerator, SCOPES, Scope } from '@app/platform';
import { EventStore, NewEvent } from '@app/events';
import { ApiKeyService, CreatedApiKey } from './api-key.service';

/** Tenants are created by operators (CLI); the first key has every scope. */
@Injectable()
export class TenantService {
  constructor(
    private readonly db: Database,
    private readonly store: EventStore,
    private readonly keys: ApiKeyService,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
  ) {}

  create(name: string): Promise<{ tenantId: string; apiKey: CreatedApiKey }> {
    return this.createIf(name, false) as Promise<{ tenantId: string; apiKey: CreatedApiKey }>;
  }

  /** The very first start: a tenant only if there is none (several starters may race). */
  createFirst(name: string): Promise<{ tenantId: string; apiKey: CreatedApiKey } | null> {
    return this.createIf(name, true);
  }

  private async createIf(name: string, onlyFirst: boolean) {
    const tenantId = this.ids.next();
    const now = this.clock.now();
    const apiKey = await this.db.transaction(async (tx) => {
      if (onlyFirst) {
        await tx.query('SELECT pg_advisory_xact_lock(738202)');
        const [any] = await tx.query('SELECT 1 FROM tenants LIMIT 1');
        if (any) return null;
      }
      await tx.query('INSERT INTO tenants (id, name) VALUES ($1, $2)', [tenantId, name]);
      const event: NewEvent = {
        tenantId,
        id: this.ids.next(),
        type: 'tenant.created',
        subject: `tenant/${tenantId}`,
        actor: { type: 'system', id: 'cli' },
        actingAsTenantId: null,
        occurredAt: now,
        receivedAt: now,
        data: { tenantId, name },
      };
      await this.store.append(tx, [event]);
      return this.keys.createIn(tx, tenantId, 'admin', [...SCOPES] as Scope[], {
        type: 'system',
        id: 'cli',
      });
    });
    if (!apiKey) return null;
    this.store.announce();
    return { tenantId, apiKey };
  }
}
