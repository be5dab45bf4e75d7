import { Injectable, Logger } from '@nestjs/common';
import { Sql, Tx } from '@app/platform';
import {
  addressFor,
  Category,
  Channel,
  ConsentMode,
  ConsentState,
  Contact,
  QuietHours,
} from './consent.types';

export const SUPPRESSION_REASONS = [
  'no_consent',
  'withdrawn',
  'do_not_contact',
  'missing_address',
  'pending_confirmation',
] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

export interface GateInput {
  channel: Channel;
  category: Category;
  state: ConsentState;
  doNotContact: boolean;
  hasAddress: boolean;
  mode: ConsentMode;
}

export interface GateDecision {
  allowed: boolean;
  reason: SuppressionReason | null;
  consentLogId: string | null;
}

/**
 * The rule (SPEC 7), in order: do-not-contact blocks everything; a withdrawn or denied channel
 * blocks every category; marketing needs `granted`; then the contact needs an address on the
 * channel. The mode never loosens it: it only changes what a grant needs (gdpr: legal basis,
 * evidence and double opt-in).
 */
export function decide(input: GateInput): Omit<GateDecision, 'consentLogId'> {
  const refuse = (reason: SuppressionReason) => ({ allowed: false, reason });
  if (input.doNotContact) return refuse('do_not_contact');
  if (input.state === 'withdrawn') return refuse('withdrawn');
  if (input.state === 'denied') return refuse('no_consent');
  if (input.category === 'marketing') {
    if (input.state === 'pending_confirmation') return refuse('pending_confirmation');
    if (input.state !== 'granted') return refuse('no_consent');
  }
  if (!input.hasAddress) return refuse('missing_address');
  return { allowed: true, reason: null };
}

/** What the gate reads: the contact, the channel's current state and the tenant's settings. */
export interface GateRead {
  contact: Contact | null;
  state: ConsentState;
  logId: string | null;
  mode: ConsentMode;
  /** The tenant's time zone and quiet hours, for the caller (quiet hours come after the gate). */
  settings?: { timeZone: string; quietHours: QuietHours };
}

/** What one decision is about. */
export interface GateKey {
  tenantId: string;
  contactId: string;
  channel: Channel;
}

export interface GateReader {
  /** One read per key, in the keys' order. */
  readMany(sql: Sql, keys: GateKey[]): Promise<GateRead[]>;
}

/** A decision and what it was made from (the contact, when it could be read). */
export interface GateResult extends GateDecision {
  read: GateRead | null;
}

export const GATE_READER = Symbol('ConsentGateReader');

/**
 * Decides whether a message may go out, when it is accepted and again just before it is sent.
 * It fails closed: whatever goes wrong while reading (a broken query, a missing contact) is a
 * refusal, never a send.
 */
@Injectable()
export class ConsentGate {
  private readonly logger = new Logger(ConsentGate.name);

  constructor(private readonly reader: GateReader) {}

  async check(
    sql: Sql,
    tenantId: string,
    contactId: string,
    channel: Channel,
    category: Category,
  ): Promise<GateResult> {
    const [result] = await this.checkMany(sql, [{ tenantId, contactId, channel, category }]);
    return result;
  }

  /** Decisions for many messages from one read (a worker's batch of claims). */
  async checkMany(sql: Sql, keys: (GateKey & { category: Category })[]): Promise<GateResult[]> {
    if (!keys.length) return [];
    // Inside a unit of work a failed read must not abort it: the refusal is recorded in it.
    const savepoint = sql instanceof Tx;
    let reads: GateRead[];
    try {
      if (savepoint) await sql.query('SAVEPOINT consent_gate');
      reads = await this.reader.readMany(sql, keys);
      if (savepoint) await sql.query('RELEASE SAVEPOINT consent_gate');
      if (reads.length !== keys.length) throw new Error('consent read lost a key');
    } catch (err) {
      if (savepoint) await sql.query('ROLLBACK TO SAVEPOINT consent_gate').catch(() => undefined);
      this.logger.warn(`consent unreadable, refusing: ${(err as Error).message}`);
      return keys.map(() => ({
        allowed: false,
        reason: 'no_consent',
        consentLogId: null,
        read: null,
      }));
    }
    return keys.map((k, i) => judge(k.channel, k.category, reads[i]));
  }
}

function judge(channel: Channel, category: Category, read: GateRead): GateResult {
  if (!read.contact || read.contact.erasedAt) {
    return { allowed: false, reason: 'no_consent', consentLogId: read.logId, read };
  }
  const decision = decide({
    channel,
    category,
    state: read.state,
    doNotContact: read.contact.doNotContact,
    hasAddress: Boolean(addressFor(read.contact, channel)),
    mode: read.mode,
  });
  return { ...decision, consentLogId: read.logId, read };
}
