import { Injectable } from '@nestjs/common';
import { Clock, Database, DomainError, IdGenerator, Tx } from '@app/platform';
import { EventStore } from '@app/events';
import { ContactFields, ContactRepository } from './contact.repository';
import { ConsentLogRepository } from './consent-log.repository';
import { ConsentSettingsRepository } from './consent-settings.repository';
import { actorOf, consentEvent, contactEvent } from './consent.events';
import {
  CONFIRMATION_LINK_DAYS,
  ConsentLinks,
  expiresInDays,
  PREFERENCE_LINK_DAYS,
} from './consent-links';
import {
  Channel,
  ConsentActor,
  ConsentRecord,
  ConsentSettings,
  ConsentStates,
  Contact,
  DEFAULT_SETTINGS,
  Evidence,
  LogStatus,
  RecordableStatus,
  RetentionSettings,
} from './consent.types';
import {
  ConsentSettingsDto,
  CreateContactDto,
  DoNotContactDto,
  PatchContactDto,
  RetentionSettingsDto,
} from './dto/consent.dto';
import { ErasureRegistry } from './erasure-registry';
import { eraseJson, erasureTargets } from './personal-data.repository';

/** A consent change as a caller asks for it, with where the request came from. */
export interface ConsentChange {
  channel: Channel;
  status: RecordableStatus;
  source: string;
  legalBasis?: string | null;
  evidence?: Evidence | null;
  actor: ConsentActor;
  ip: string | null;
  userAgent: string | null;
}

export interface ContactView {
  id: string;
  externalId: string;
  email: string | null;
  phone: string | null;
  whatsapp: string | null;
  postalAddress: string | null;
  timeZone: string | null;
  doNotContact: { enabled: boolean; reason: string | null };
  erased: boolean;
  createdAt: string;
  updatedAt: string;
}

export const toContactView = (c: Contact): ContactView => ({
  id: c.id,
  externalId: c.externalId,
  email: c.email,
  phone: c.phone,
  whatsapp: c.whatsapp,
  postalAddress: c.postalAddress,
  timeZone: c.timeZone,
  doNotContact: { enabled: c.doNotContact, reason: c.doNotContactReason },
  erased: c.erasedAt !== null,
  createdAt: c.createdAt,
  updatedAt: c.updatedAt,
});

const EDITABLE = ['externalId', 'email', 'phone', 'whatsapp', 'postalAddress', 'timeZone'] as const;

/**
 * Contacts, the consent log, do-not-contact, double opt-in, settings and erasure. Every change
 * is one unit of work: the contact's row is locked, the change and its event are written, then
 * it commits; so concurrent changes to one contact are ordered and none is lost.
 */
@Injectable()
export class ConsentService {
  constructor(
    private readonly db: Database,
    private readonly contacts: ContactRepository,
    private readonly log: ConsentLogRepository,
    private readonly settings: ConsentSettingsRepository,
    private readonly store: EventStore,
    private readonly links: ConsentLinks,
    private readonly erasure: ErasureRegistry,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
  ) {}

  createContact(tenantId: string, actor: ConsentActor, dto: CreateContactDto) {
    const fields: ContactFields = {
      externalId: dto.externalId,
      email: dto.email ?? null,
      phone: dto.phone ?? null,
      whatsapp: dto.whatsapp ?? null,
      postalAddress: dto.postalAddress ?? null,
      timeZone: dto.timeZone ?? null,
    };
    return this.db.transaction(async (tx) => {
      const contact = await this.contacts.insert(
        tx,
        tenantId,
        this.ids.next(),
        fields,
        this.clock.now(),
      );
      if (!contact) {
        throw new DomainError('conflict', 'A contact with this externalId already exists');
      }
      await this.store.record(
        tx,
        contactEvent(tenantId, 'messaging.contact.created', contact.id, actor),
      );
      return toContactView(contact);
    });
  }

  async getContact(tenantId: string, id: string): Promise<ContactView> {
    return toContactView(await this.mustFind(tenantId, id));
  }

  async listContacts(tenantId: string, afterId: string | null, limit: number) {
    return (await this.contacts.list(tenantId, afterId, limit)).map(toContactView);
  }

  patchContact(tenantId: string, id: string, actor: ConsentActor, dto: PatchContactDto) {
    return this.changeContact(tenantId, id, async (tx, contact) => {
      const changed: string[] = [];
      for (const field of EDITABLE) {
        const value = dto[field];
        if (value === undefined || value === contact[field]) continue;
        if (field === 'externalId' && value === null) continue;
        (contact as unknown as Record<string, unknown>)[field] = value;
        changed.push(field);
      }
      if (!changed.length) return;
      if (!(await this.contacts.update(tx, tenantId, contact, this.clock.now()))) {
        throw new DomainError('conflict', 'A contact with this externalId already exists');
      }
      await this.store.record(
        tx,
        contactEvent(tenantId, 'messaging.contact.updated', id, actor, { fields: changed }),
      );
    });
  }

  doNotContact(tenantId: string, id: string, actor: ConsentActor, dto: DoNotContactDto) {
    return this.changeContact(tenantId, id, async (tx, contact) => {
      contact.doNotContact = dto.enabled;
      contact.doNotContactReason = dto.enabled ? (dto.reason ?? null) : null;
      await this.contacts.update(tx, tenantId, contact, this.clock.now());
      await this.store.record(
        tx,
        contactEvent(
          tenantId,
          dto.enabled ? 'consent.do_not_contact.enabled' : 'consent.do_not_contact.disabled',
          id,
          actor,
        ),
      );
    });
  }

  async states(tenantId: string, contactId: string): Promise<ConsentStates> {
    await this.mustFind(tenantId, contactId);
    return this.log.states(this.db, tenantId, contactId);
  }

  async consentLog(tenantId: string, contactId: string): Promise<ConsentRecord[]> {
    await this.mustFind(tenantId, contactId);
    return this.log.log(tenantId, contactId);
  }

  /**
   * Appends one change to the log. In gdpr mode a grant needs a legal basis and evidence; with
   * double opt-in (always on in gdpr mode) a grant is recorded as pending_confirmation and a
   * confirmation link is mailed by the worker.
   */
  async record(tenantId: string, contactId: string, change: ConsentChange) {
    return this.db.transaction(async (tx) => {
      const contact = await this.lockLive(tx, tenantId, contactId);
      const settings = await this.settings.consent(tx, tenantId);
      if (change.status === 'granted' && settings.mode === 'gdpr') {
        const errors = [];
        if (!change.legalBasis)
          errors.push({ field: 'legalBasis', message: 'required in gdpr mode' });
        if (!change.evidence || !Object.keys(change.evidence).length) {
          errors.push({ field: 'evidence', message: 'required in gdpr mode' });
        }
        if (errors.length) {
          throw new DomainError('validation_failed', 'A grant in gdpr mode needs proof', errors);
        }
      }
      const doubleOptIn = settings.doubleOptIn || settings.mode === 'gdpr';
      const status: LogStatus =
        change.status === 'granted' && doubleOptIn && change.source !== 'double_opt_in'
          ? 'pending_confirmation'
          : change.status;
      const evidence = withoutAddresses(change.evidence, contact);
      const record = await this.append(tx, tenantId, contact.id, { ...change, evidence, status });
      if (status === 'pending_confirmation') {
        const expiresAt = new Date(this.clock.now().getTime() + CONFIRMATION_LINK_DAYS * 86400e3);
        await this.log.addConfirmation(
          tx,
          tenantId,
          record.id,
          contact.id,
          change.channel,
          expiresAt,
        );
      }
      return record;
    });
  }

  /**
   * Follows a confirmation link: the pending grant it names becomes granted, once. A link whose
   * grant is no longer the channel's current state (confirmed, withdrawn since) is spent.
   */
  /** Whether `logId` is the contact's pending grant, still waiting for its confirmation. */
  async confirmable(tenantId: string, contactId: string, logId: string): Promise<boolean> {
    const contact = await this.contacts.find(this.db, tenantId, contactId);
    if (!contact || contact.erasedAt) return false;
    const pending = await this.log.find(this.db, tenantId, logId);
    if (!pending || pending.contactId !== contactId) return false;
    const current = await this.log.current(this.db, tenantId, contactId, pending.channel);
    return current?.id === logId && current.status === 'pending_confirmation';
  }

  async confirm(
    tenantId: string,
    contactId: string,
    logId: string,
    ip: string | null,
    userAgent: string | null,
  ): Promise<ConsentRecord | null> {
    return this.db.transaction(async (tx) => {
      const contact = await this.contacts.lock(tx, tenantId, contactId);
      if (!contact || contact.erasedAt) return null;
      const pending = await this.log.find(tx, tenantId, logId);
      if (!pending || pending.contactId !== contactId) return null;
      const current = await this.log.current(tx, tenantId, contactId, pending.channel);
      if (current?.id !== logId || current.status !== 'pending_confirmation') return null;
      return this.append(tx, tenantId, contactId, {
        channel: pending.channel,
        status: 'granted',
        source: 'double_opt_in',
        legalBasis: pending.legalBasis,
        evidence: pending.evidence,
        actor: { type: 'contact', id: contactId },
        ip,
        userAgent,
      });
    });
  }

  async preferenceLink(tenantId: string, contactId: string) {
    await this.live(tenantId, contactId);
    const expiresAt = expiresInDays(this.clock.now().getTime(), PREFERENCE_LINK_DAYS);
    const token = await this.links.sign({ kind: 'p', tenantId, contactId, expiresAt });
    return {
      url: `${this.links.baseUrl()}/preferences/${token}`,
      expiresAt: new Date(expiresAt * 1000).toISOString(),
    };
  }

  async getSettings(tenantId: string): Promise<ConsentSettings> {
    return this.settings.consent(this.db, tenantId);
  }

  putSettings(tenantId: string, actor: ConsentActor, dto: ConsentSettingsDto) {
    const settings: ConsentSettings = {
      mode: dto.mode,
      doubleOptIn: dto.mode === 'gdpr' ? true : dto.doubleOptIn,
      timeZone: dto.timeZone ?? DEFAULT_SETTINGS.timeZone,
      quietHours: dto.quietHours
        ? { start: dto.quietHours.start, end: dto.quietHours.end }
        : { ...DEFAULT_SETTINGS.quietHours },
    };
    return this.db.transaction(async (tx) => {
      await this.settings.putConsent(tx, tenantId, settings, this.clock.now());
      await this.store.record(tx, {
        tenantId,
        type: 'consent.settings.updated',
        subject: 'settings/consent',
        actor: actorOf(actor),
        data: { ...settings },
      });
      return settings;
    });
  }

  getRetention(tenantId: string): Promise<RetentionSettings> {
    return this.settings.retention(this.db, tenantId);
  }

  putRetention(tenantId: string, actor: ConsentActor, dto: RetentionSettingsDto) {
    const retention: RetentionSettings = {
      messagesDays: dto.messagesDays ?? null,
      eventsDays: dto.eventsDays ?? null,
    };
    return this.db.transaction(async (tx) => {
      await this.settings.putRetention(tx, tenantId, retention, this.clock.now());
      await this.store.record(tx, {
        tenantId,
        type: 'consent.retention.updated',
        subject: 'settings/retention',
        actor: actorOf(actor),
        data: { ...retention },
      });
      return retention;
    });
  }

  /**
   * Removes the contact's personal data: the contact's fields, pending confirmations, message
   * bodies (ErasureRegistry participants) and every raw event that names one of its addresses.
   * The consent log stays (proof of consent; it holds no address), and so do the audit chains,
   * which never held any. The erasure is an event itself.
   */
  async erase(tenantId: string, contactId: string, actor: ConsentActor, source: string) {
    return this.db.transaction(async (tx) => {
      const contact = await this.contacts.lock(tx, tenantId, contactId);
      if (!contact) throw DomainError.notFound('Contact');
      if (contact.erasedAt) return { id: contactId, erased: true, erasedAt: contact.erasedAt };
      // The external id is matched only as a whole value (never inside other text or numbers).
      const targets = erasureTargets(
        [contact.email],
        [contact.phone, contact.whatsapp],
        [contact.postalAddress, contact.externalId],
      );
      const now = this.clock.now();
      await this.contacts.erase(tx, tenantId, contactId, now);
      await this.log.forgetConfirmations(tx, tenantId, contactId);
      const removed: Record<string, number> = {};
      for (const p of this.erasure.all()) {
        removed[p.name] = await p.erase(tx, tenantId, contactId, targets);
      }
      await this.store.record(
        tx,
        contactEvent(tenantId, 'consent.contact.erased', contactId, actor, { source, removed }),
      );
      return { id: contactId, erased: true, erasedAt: now.toISOString() };
    });
  }

  private async append(
    tx: Tx,
    tenantId: string,
    contactId: string,
    change: Omit<ConsentChange, 'status'> & { status: LogStatus },
  ): Promise<ConsentRecord> {
    const record = await this.log.append(tx, tenantId, {
      id: this.ids.next(),
      contactId,
      channel: change.channel,
      status: change.status,
      source: change.source,
      legalBasis: change.legalBasis ?? null,
      evidence: change.evidence && Object.keys(change.evidence).length ? change.evidence : null,
      actor: change.actor,
      ip: change.ip,
      userAgent: change.userAgent,
      recordedAt: this.clock.now(),
    });
    await this.store.record(tx, consentEvent(tenantId, record));
    return record;
  }

  private async changeContact(
    tenantId: string,
    id: string,
    work: (tx: Tx, contact: Contact) => Promise<void>,
  ): Promise<ContactView> {
    return this.db.transaction(async (tx) => {
      const contact = await this.lockLive(tx, tenantId, id);
      await work(tx, contact);
      return toContactView(contact);
    });
  }

  private async lockLive(tx: Tx, tenantId: string, id: string): Promise<Contact> {
    const contact = await this.contacts.lock(tx, tenantId, id);
    if (!contact) throw DomainError.notFound('Contact');
    if (contact.erasedAt) throw new DomainError('conflict', 'This contact was erased');
    return contact;
  }

  private async mustFind(tenantId: string, id: string): Promise<Contact> {
    const contact = await this.contacts.find(this.db, tenantId, id);
    if (!contact) throw DomainError.notFound('Contact');
    return contact;
  }

  private async live(tenantId: string, id: string): Promise<Contact> {
    const contact = await this.mustFind(tenantId, id);
    if (contact.erasedAt) throw DomainError.notFound('Contact');
    return contact;
  }
}

/**
 * The consent log is kept after an erasure as proof of consent and is append-only, so the
 * contact's own addresses never enter it: in `evidence.text` and `evidence.url` they are
 * replaced by `[address]` when the change is recorded.
 */
function withoutAddresses(evidence: Evidence | null | undefined, contact: Contact) {
  if (!evidence) return evidence;
  const targets = erasureTargets(
    [contact.email],
    [contact.phone, contact.whatsapp],
    [contact.postalAddress],
  );
  const out: Evidence = { ...evidence };
  for (const key of ['text', 'url'] as const) {
    const v = out[key];
    if (typeof v !== 'string') continue;
    let clean = String(eraseJson(v, targets)).replace(/\[erased\]/g, '[address]');
    const encoded = contact.email ? encodeURIComponent(contact.email) : null;
    for (const address of [contact.phone, contact.whatsapp, contact.postalAddress, encoded]) {
      if (address && address.length >= 6) clean = clean.split(address).join('[address]');
    }
    out[key] = clean;
  }
  return out;
}
