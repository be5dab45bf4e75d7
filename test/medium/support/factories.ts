import { AuthContext, IdGenerator, SCOPES, Scope } from '@app/platform';
import { EventStore, NewEvent } from '@app/events';
import { ApiKeyService, TenantService } from '@app/identity';
import { WebhookEndpointService } from '@app/webhooks/webhook-endpoint.service';
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

  /**
   * An endpoint through WebhookEndpointService.create (SSRF check, sealed secret, the
   * webhook.endpoint.created event): the app must import WebhooksModule and allow the URL's
   * address (WEBHOOK_ALLOW_HTTP, WEBHOOK_ALLOWED_CIDRS for 127.0.0.1).
   */
  endpoint(
    tenant: { auth: AuthContext },
    overrides: Partial<{ url: string; eventTypes: string[]; description: string }> = {},
  ) {
    return m.get(WebhookEndpointService).create(tenant.auth, {
      url: 'http://127.0.0.1:9/hook',
      eventTypes: ['invoice.*'],
      ...overrides,
    });
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
