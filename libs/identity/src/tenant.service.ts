import { Injectable } from '@nestjs/common';
import { Database, IdGenerator, SCOPES, Scope } from '@app/platform';
import { EventStore } from '@app/events';
import { ApiKeyService, CreatedApiKey } from './api-key.service';
import { TenantRepository } from './tenant.repository';

/** Tenants are created by operators (CLI); the first key has every scope. */
@Injectable()
export class TenantService {
  constructor(
    private readonly db: Database,
    private readonly tenants: TenantRepository,
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
      if (onlyFirst && (await this.tenants.anyExistsLocked(tx))) return null;
      await this.tenants.insert(tx, tenantId, name);
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
