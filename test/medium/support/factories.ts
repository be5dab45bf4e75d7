import { AuthContext, IdGenerator, SCOPES, Scope } from '@app/platform';
import { EventStore, NewEvent } from '@app/events';
import { ApiKeyService, TenantService } from '@app/identity';
import { WebhookEndpointService } from '@app/webhooks/webhook-endpoint.service';
import { AiActionService, AiPolicyService } from '@app/approvals';
import type { PutPolicyDto, SubmitActionDto } from '@app/approvals/dto/ai-action.dto';
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

  /** Sets the tenant's risk policy for an action type (a new version each time). */
  aiPolicy(tenant: { auth: AuthOf }, type: string, policy: PutPolicyDto) {
    return m.get(AiPolicyService).put(tenant.auth, type, policy);
  },

  /** Submits an AI action with the tenant's key: autonomous, agent `agent-1`, unless overridden. */
  aiAction(tenant: { auth: AuthOf }, overrides: Partial<SubmitActionDto> = {}) {
    return m.get(AiActionService).submit(tenant.auth, {
      type: 'crm.update',
      initiator: 'autonomous',
      agent: { id: 'agent-1', model: 'm' },
      input: { dealId: 'd_1', amount: 100 },
      ...overrides,
    });
  },

  /** An approver: a second key of the tenant with the decide scope, as an AuthContext. */
  async approver(tenant: { tenantId: string; auth: AuthOf }, name = 'approver') {
    const key = await this.apiKey(tenant, ['ai-actions:decide'], name);
    return { tenantId: tenant.tenantId, keyId: key.id, scopes: new Set<Scope>(key.scopes) };
  },
});

type AuthOf = Parameters<ApiKeyService['create']>[0];
