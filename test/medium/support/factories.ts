import { IdGenerator, SCOPES, Scope } from '@app/platform';
import { EventStore, NewEvent } from '@app/events';
import { ApiKeyService, TenantService } from '@app/identity';
import { MediumApp } from './medium-app';

/** Builders for the medium tier: each makes real rows through the capability's own services. */
export const factories = (m: MediumApp) => ({
  async tenant(name = 'acme') {
    const { tenantId, apiKey } = await m.get(TenantService).create(name);
    const auth = { tenantId, keyId: apiKey.id, scopes: new Set<Scope>(SCOPES as readonly Scope[]) };
    return { tenantId, apiKey, auth };
  },

  apiKey(tenant: { auth: Parameters<ApiKeyService['create']>[0] }, scopes: Scope[], name = 'k') {
    return m.get(ApiKeyService).create(tenant.auth, name, scopes);
  },

  event(tenantId: string, overrides: Partial<NewEvent> = {}): NewEvent {
    const now = new Date();
    return {
      tenantId,
      id: m.get(IdGenerator).next(),
      type: 'invoice.paid',
      subject: 'invoice/1',
      actor: { type: 'service', id: 'billing' },
      actingAsTenantId: null,
      occurredAt: now,
      receivedAt: now,
      data: { amount: 1200 },
      ...overrides,
    };
  },

  /** Appends `n` published events for the tenant in one transaction. */
  async events(tenantId: string, n: number, overrides: Partial<NewEvent> = {}) {
    const events = Array.from({ length: n }, () => this.event(tenantId, overrides));
    await m.db.transaction((tx) => m.get(EventStore).append(tx, events));
    return events;
  },
});
