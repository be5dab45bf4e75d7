import { Injectable } from '@nestjs/common';
import { isChainOnlyType, StoredEvent } from '@app/events';
import { AuditEntry, ChainName } from './audit-entry';

/** What an event contributes to an entry, before redaction; the appender adds seq and hashes. */
export type EntryContent = Pick<
  AuditEntry,
  'eventId' | 'type' | 'subject' | 'actor' | 'actingAsTenantId' | 'data'
> & { occurredAt: Date };

/**
 * One chain of a tenant's audit record: which events of the tenant's stream go into it, and how
 * an event maps to an entry. The appender redacts, hashes and checkpoints every chain alike.
 */
export interface AuditChainDefinition {
  chain: ChainName;
  selects(event: StoredEvent): boolean;
  toEntry(event: StoredEvent): EntryContent;
}

/** Events that are published to webhooks only and belong to no chain. */
const UNCHAINED_TYPES = new Set(['audit.checkpoint']);

/**
 * `main`: every accepted event, published or Ledgerline's own, except audit.checkpoint and the
 * records that belong to another chain only (the `ai` chain's steps).
 */
export const MAIN_CHAIN: AuditChainDefinition = {
  chain: 'main',
  selects: (event) => !UNCHAINED_TYPES.has(event.type) && !isChainOnlyType(event.type),
  toEntry: (event) => ({
    eventId: event.id,
    type: event.type,
    subject: event.subject,
    actor: { type: event.actor.type, id: event.actor.id },
    actingAsTenantId: event.actingAsTenantId,
    data: event.data,
    occurredAt: event.occurredAt,
  }),
};

/**
 * The chains the appender writes, `main` first. Another capability adds its chain (the `ai`
 * chain of SPEC section 6) with `register` when its module starts.
 */
@Injectable()
export class AuditChainRegistry {
  private readonly chains = new Map<ChainName, AuditChainDefinition>([['main', MAIN_CHAIN]]);

  register(definition: AuditChainDefinition): void {
    if (this.chains.has(definition.chain)) {
      throw new Error(`audit chain ${definition.chain} is registered twice`);
    }
    this.chains.set(definition.chain, definition);
  }

  all(): AuditChainDefinition[] {
    return [...this.chains.values()];
  }
}
