import { Actor, SystemEvent } from '@app/events';
import { ConsentActor, ConsentRecord } from './consent.types';

/**
 * consent.* and messaging.contact.* events: ids, channels, states and sources only. Addresses,
 * names, IPs, user agents and message text never enter an event, so neither the audit chain
 * nor a webhook ever holds them.
 */
export function actorOf(actor: ConsentActor): Actor {
  if (actor.type === 'api_key') return { type: 'service', id: `api_key:${actor.id}` };
  if (actor.type === 'user') return { type: 'user', id: actor.id ?? 'unknown' };
  if (actor.type === 'contact') return { type: 'system', id: 'preference_center' };
  return { type: 'system', id: 'ledgerline' };
}

export function consentEvent(tenantId: string, r: ConsentRecord): SystemEvent {
  const type =
    r.status === 'pending_confirmation' ? 'consent.confirmation_requested' : `consent.${r.status}`;
  return {
    tenantId,
    type,
    subject: `contact/${r.contactId}`,
    actor: actorOf(r.actor),
    data: {
      contactId: r.contactId,
      channel: r.channel,
      status: r.status,
      consentLogId: r.id,
      source: r.source,
      legalBasis: r.legalBasis,
      noticeVersion: r.evidence?.noticeVersion ?? null,
    },
  };
}

export function contactEvent(
  tenantId: string,
  type: string,
  contactId: string,
  actor: ConsentActor,
  data: Record<string, unknown> = {},
): SystemEvent {
  return {
    tenantId,
    type,
    subject: `contact/${contactId}`,
    actor: actorOf(actor),
    data: { contactId, ...data },
  };
}
