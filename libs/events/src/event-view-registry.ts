import { Injectable } from '@nestjs/common';

/** Adds what another capability knows about an event (its audit entry, its deliveries). */
export type EventViewContributor = (
  tenantId: string,
  eventId: string,
) => Promise<Record<string, unknown>>;

/**
 * GET /v1/events/{id} shows facts owned by other modules; they register a contributor here
 * instead of the events module reading their tables.
 */
@Injectable()
export class EventViewRegistry {
  private readonly contributors: EventViewContributor[] = [];

  register(contributor: EventViewContributor): void {
    this.contributors.push(contributor);
  }

  async contribute(tenantId: string, eventId: string): Promise<Record<string, unknown>> {
    const parts = await Promise.all(this.contributors.map((c) => c(tenantId, eventId)));
    return Object.assign(
      { audit: null, deliveries: { pending: 0, succeeded: 0, failed: 0 } },
      ...parts,
    );
  }
}
