import { Injectable } from '@nestjs/common';
import { Database, IdGenerator, SCOPES, Scope } from '@app/platform';
import { EventStore } from '@app/events';
import { ApiKeyService, CreatedApiKey } from './api-key.service';

/** Tenants are created by operators (CLI); the first key has every scope. */
@Injectable()
export class TenantService {
  constructor(
    private readonly db: Database,
    private readonly store: EventStore,
    private readonly keys: ApiKeyService,
    private readonly ids: IdGenerator,
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
    const apiKey = await this.db.transaction(async (tx) => {
      if (onlyFirst) {
        await tx.query('SELECT pg_advisory_xact_lock(738202)');
        const [any] = await tx.query('SELECT 1 FROM tenants LIMIT 1');
        if (any) return null;
      }
      await tx.query('INSERT INTO tenants (id, name) VALUES ($1, $2)', [tenantId, name]);
      await this.store.record(tx, {
        tenantId,
        type: 'tenant.created',
        subject: `tenant/${tenantId}`,
        actor: { type: 'system', id: 'cli' },
        data: { tenantId, name },
      });
      return this.keys.createIn(tx, tenantId, 'admin', [...SCOPES] as Scope[], {
        type: 'system',
        id: 'cli',
      });
    });
    if (!apiKey) return null;
    return { tenantId, apiKey };
  }
}
