import { Injectable } from '@nestjs/common';
import { Tx } from '@app/platform';
import type { ErasureTargets } from './personal-data.repository';

/**
 * A capability that keeps a contact's personal data elsewhere (messaging's message bodies)
 * removes it here, inside the erasure's own unit of work, so an erasure is all or nothing.
 */
export interface ErasureParticipant {
  readonly name: string;
  /** `targets`: the contact's addresses and external id as they were before erasure. */
  erase(tx: Tx, tenantId: string, contactId: string, targets: ErasureTargets): Promise<number>;
  /** Which retention period (PUT /v1/settings/retention) governs what it keeps. */
  readonly retention: 'messages' | 'events';
  /** Removes what the tenant keeps past the retention period (received before `before`). */
  purgeBefore(tenantId: string, before: Date): Promise<number>;
}

@Injectable()
export class ErasureRegistry {
  private readonly participants = new Map<string, ErasureParticipant>();

  register(participant: ErasureParticipant): void {
    if (this.participants.has(participant.name)) return; // a module initialised twice
    this.participants.set(participant.name, participant);
  }

  all(): ErasureParticipant[] {
    return [...this.participants.values()];
  }
}
