/** A tenant's webhook endpoint, as the repository maps it from its row. */
export interface WebhookEndpoint {
  tenantId: string;
  id: string;
  url: string;
  eventTypes: string[];
  description: string | null;
  rateLimitPerSecond: number | null;
  status: 'enabled' | 'disabled';
  disabledReason: string | null;
  secretSealed: string;
  secretKeyId: string;
  previousSecretSealed: string | null;
  previousSecretKeyId: string | null;
  previousSecretExpiresAt: Date | null;
  consecutiveFailures: number;
  failingSince: Date | null;
  /** Until when its attempts take the slow lane; null for the fast lane. */
  slowUntil: Date | null;
  /** It receives the tenant's events after this stream position (older ones only by recover). */
  startsAfterPosition: number;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

/** What an endpoint change may set (configuration, lifecycle and secrets). */
export type EndpointChange = Partial<
  Pick<
    WebhookEndpoint,
    | 'url'
    | 'eventTypes'
    | 'description'
    | 'rateLimitPerSecond'
    | 'status'
    | 'disabledReason'
    | 'secretSealed'
    | 'secretKeyId'
    | 'previousSecretSealed'
    | 'previousSecretKeyId'
    | 'previousSecretExpiresAt'
    | 'consecutiveFailures'
    | 'failingSince'
    | 'startsAfterPosition'
    | 'deletedAt'
  >
>;

/** The owner bound into an endpoint's sealed secrets: moved elsewhere, they do not open. */
export function secretOwner(tenantId: string, endpointId: string): string {
  return `webhook_endpoint/${tenantId}/${endpointId}`;
}
