import { Category, Channel, SuppressionReason } from '@app/consent';

export type MessageStatus = 'queued' | 'scheduled' | 'sending' | 'sent' | 'failed' | 'suppressed';

/** One consent-gate decision kept on the message (SPEC 7). */
export interface GateCheck {
  at: 'accepted' | 'sending';
  allowed: boolean;
  reason: SuppressionReason | null;
  consentLogId: string | null;
  checkedAt: string;
}

export interface Message {
  tenantId: string;
  id: string;
  contactId: string;
  channel: Channel;
  category: Category;
  subject: string | null;
  body: string | null;
  status: MessageStatus;
  reason: string | null;
  sendAt: string | null;
  sentAt: string | null;
  attempts: number;
  nextAttemptAt: string;
  leaseUntil: string | null;
  checks: GateCheck[];
  createdAt: string;
}

export interface MessageView {
  id: string;
  contactId: string;
  channel: Channel;
  category: Category;
  status: Exclude<MessageStatus, 'sending'>;
  reason?: string;
  sendAt?: string;
  sentAt?: string;
  attempts: number;
  checks: Omit<GateCheck, 'checkedAt'>[] & { checkedAt?: string }[];
  createdAt: string;
}

/** `sending` is internal: to the caller the message is still queued (or scheduled). */
export function toMessageView(m: Message): MessageView {
  const status = m.status === 'sending' ? (m.sendAt ? 'scheduled' : 'queued') : m.status;
  return {
    id: m.id,
    contactId: m.contactId,
    channel: m.channel,
    category: m.category,
    status,
    ...(m.reason ? { reason: m.reason } : {}),
    ...(m.sendAt ? { sendAt: m.sendAt } : {}),
    ...(m.sentAt ? { sentAt: m.sentAt } : {}),
    attempts: m.attempts,
    checks: m.checks,
    createdAt: m.createdAt,
  };
}
