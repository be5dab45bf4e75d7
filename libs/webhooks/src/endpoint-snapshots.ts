import { Injectable } from '@nestjs/common';
import { WebhookEndpoint } from './webhook-endpoint';
import { WebhookEndpointRepository } from './webhook-endpoint.repository';

/** How old an endpoint's snapshot may be when a fresh delivery is sent with it. */
export const SNAPSHOT_MS = 1000;
/** Snapshots kept before the expired ones are dropped. */
const KEPT = 10000;

/**
 * Endpoints as PostgreSQL had them less than SNAPSHOT_MS ago, for fan-out's fresh deliveries:
 * they skip the per-attempt claim that reads the endpoint (see DeliveryHandoff), so a disable,
 * a delete, a new URL or a new secret reaches them within SNAPSHOT_MS. One read per endpoint
 * per interval, shared by the attempts that wait for it.
 */
@Injectable()
export class EndpointSnapshots {
  private readonly snapshots = new Map<
    string,
    { readAt: number; endpoint: Promise<WebhookEndpoint | null> }
  >();

  constructor(private readonly endpoints: WebhookEndpointRepository) {}

  /** The endpoint unless it is deleted (disabled ones too: the caller checks). */
  current(tenantId: string, id: string): Promise<WebhookEndpoint | null> {
    const key = `${tenantId}/${id}`;
    const now = Date.now();
    const known = this.snapshots.get(key);
    if (known && now - known.readAt < SNAPSHOT_MS) return known.endpoint;
    if (this.snapshots.size >= KEPT) this.dropExpired(now);
    const snapshot = { readAt: now, endpoint: this.endpoints.get(tenantId, id) };
    this.snapshots.set(key, snapshot);
    // A failed read is not kept: the next attempt reads again.
    snapshot.endpoint.catch(() => {
      if (this.snapshots.get(key) === snapshot) this.snapshots.delete(key);
    });
    return snapshot.endpoint;
  }

  /** This worker just changed the endpoint (disabled it): the next attempt reads it again. */
  forget(tenantId: string, id: string): void {
    this.snapshots.delete(`${tenantId}/${id}`);
  }

  private dropExpired(now: number): void {
    for (const [key, s] of this.snapshots) {
      if (now - s.readAt >= SNAPSHOT_MS) this.snapshots.delete(key);
    }
  }
}
