export const CHANNELS = ['email', 'sms', 'whatsapp', 'phone', 'postal'] as const;
export type Channel = (typeof CHANNELS)[number];

/** What a caller may record; `pending_confirmation` is recorded by Ledgerline (double opt-in). */
export const RECORDABLE_STATUSES = ['granted', 'withdrawn', 'denied'] as const;
export type RecordableStatus = (typeof RECORDABLE_STATUSES)[number];
export type LogStatus = RecordableStatus | 'pending_confirmation';
export type ConsentState = LogStatus | 'unknown';

export const MODES = ['standard', 'gdpr', 'ccpa'] as const;
export type ConsentMode = (typeof MODES)[number];

export const CATEGORIES = ['marketing', 'transactional'] as const;
export type Category = (typeof CATEGORIES)[number];

/** Who recorded a consent change: an API key, a console user, or the contact themself. */
export interface ConsentActor {
  type: 'api_key' | 'user' | 'contact' | 'system';
  id: string | null;
}

export interface Evidence {
  ip?: string;
  userAgent?: string;
  text?: string;
  url?: string;
  noticeVersion?: string;
}

/** One record of the append-only consent log. */
export interface ConsentRecord {
  id: string;
  contactId: string;
  channel: Channel;
  status: LogStatus;
  source: string;
  legalBasis: string | null;
  evidence: Evidence | null;
  actor: ConsentActor;
  ip: string | null;
  userAgent: string | null;
  recordedAt: string;
}

/** A channel's current state and the log record it comes from (null where nothing was recorded). */
export interface ChannelState {
  status: ConsentState;
  logId: string | null;
}

export type ConsentStates = Record<Channel, ChannelState>;

export interface QuietHours {
  start: string;
  end: string;
}

export interface ConsentSettings {
  mode: ConsentMode;
  doubleOptIn: boolean;
  timeZone: string;
  quietHours: QuietHours;
}

export const DEFAULT_SETTINGS: ConsentSettings = {
  mode: 'standard',
  doubleOptIn: false,
  timeZone: 'UTC',
  quietHours: { start: '21:00', end: '08:00' },
};

export interface RetentionSettings {
  messagesDays: number | null;
  eventsDays: number | null;
}

export interface Contact {
  id: string;
  externalId: string;
  email: string | null;
  phone: string | null;
  whatsapp: string | null;
  postalAddress: string | null;
  timeZone: string | null;
  doNotContact: boolean;
  doNotContactReason: string | null;
  erasedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** The contact's address for a channel, or null when it has none. */
export function addressFor(contact: Contact, channel: Channel): string | null {
  switch (channel) {
    case 'email':
      return contact.email;
    case 'sms':
    case 'phone':
      return contact.phone;
    case 'whatsapp':
      return contact.whatsapp ?? contact.phone;
    case 'postal':
      return contact.postalAddress;
  }
}

/** True for an IANA time zone name that this runtime's Intl knows. */
export function isTimeZone(name: string): boolean {
  if (typeof name !== 'string' || !name || name.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
