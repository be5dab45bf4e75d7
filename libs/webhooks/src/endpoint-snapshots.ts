import { Injectable } from '@nestjs/common';
import { ExpiringMemo } from '@app/platform';
import { WebhookEndpoint } from './webhook-endpoint';
import { WebhookEndpointRepository } from './webhook-endpoint.repository';

/** How old an endpoint's snapshot may be when a fresh delivery is sent with it. */
export const SNAPSHOT_MS = 1000;

/**
 * Endpoints as PostgreSQL had them less than SNAPSHOT_MS ago, for fan-out's fresh deliveries:
 * they skip the per-attempt claim that reads the endpoint (see DeliveryHandoff), so a disable,
 * a delete, a new URL or a new secret reaches them within SNAPSHOT_MS. One read per endpoint
 * per interval, shared by the attempts that wait for it.
 */
@Injectable()
export class EndpointSnapshots {
  private readonly snapshots = new ExpiringMemo<WebhookEndpoint | null>(
    () => Date.now(),
    SNAPSHOT_MS,
  );

  constructor(private readonly endpoints: WebhookEndpointRepository) {}

  /** The endpoint unless it is deleted (disabled ones too: the caller checks). */
  current(tenantId: string, id: string): Promise<WebhookEndpoint | null> {
    return this.snapshots.get(`${tenantId}/${id}`, () => this.endpoints.get(tenantId, id));
  }

  /** This worker just changed the endpoint (disabled it): the next attempt reads it again. */
  forget(tenantId: string, id: string): void {
    this.snapshots.forget(`${tenantId}/${id}`);
  }
}
