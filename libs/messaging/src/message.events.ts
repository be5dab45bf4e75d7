import { Actor, SystemEvent } from '@app/events';
import { Message } from './message';

export const SYSTEM_ACTOR: Actor = { type: 'system', id: 'ledgerline' };

/** messaging.message.*: ids, channel, category, outcome. Never the address, subject or body. */
export function messageEvent(
  m: Message,
  what: 'accepted' | 'sent' | 'failed' | 'suppressed',
  actor: Actor,
  extra: Record<string, unknown> = {},
): SystemEvent {
  const last = m.checks[m.checks.length - 1];
  return {
    tenantId: m.tenantId,
    type: `messaging.message.${what}`,
    subject: `message/${m.id}`,
    actor,
    data: {
      messageId: m.id,
      contactId: m.contactId,
      channel: m.channel,
      category: m.category,
      status: m.status === 'sending' ? 'queued' : m.status,
      reason: m.reason,
      sendAt: m.sendAt,
      consentLogId: last?.consentLogId ?? null,
      ...extra,
    },
  };
}
