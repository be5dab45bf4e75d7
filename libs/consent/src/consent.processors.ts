import { Injectable, Logger } from '@nestjs/common';
import { Clock, Database, Mailer, Periodic } from '@app/platform';
import { ContactRepository } from './contact.repository';
import { ConsentLogRepository } from './consent-log.repository';
import { ConsentSettingsRepository } from './consent-settings.repository';
import { ConsentLinks } from './consent-links';
import { ErasureRegistry } from './erasure-registry';

const BATCH = 100;
const DAY_MS = 86400e3;
/** Tries per confirmation mail (1, 2, 4, … 64 minutes apart); then it is given up. */
export const CONFIRMATION_MAX_ATTEMPTS = 8;

/**
 * Mails double opt-in confirmation links. PostgreSQL holds what is owed (consent_confirmations
 * without mailed_at), so a flushed Redis or a restarted worker loses none. Each row is claimed
 * (SKIP LOCKED, with an attempt counter whose backoff is also its lease) before it is mailed, and
 * a failing one is retried with backoff up to {@link CONFIRMATION_MAX_ATTEMPTS} times.
 */
@Injectable()
export class ConfirmationMailer {
  private readonly logger = new Logger(ConfirmationMailer.name);

  constructor(
    private readonly db: Database,
    private readonly log: ConsentLogRepository,
    private readonly contacts: ContactRepository,
    private readonly links: ConsentLinks,
    private readonly mailer: Mailer,
    private readonly clock: Clock,
  ) {}

  @Periodic('consent-confirmations', 1000)
  async mailDue(): Promise<number> {
    if (!this.mailer.configured) return 0;
    const now = this.clock.now();
    let sent = 0;
    const due = await this.log.claimUnmailed(now, BATCH, CONFIRMATION_MAX_ATTEMPTS);
    for (const c of due) {
      const contact = await this.contacts.find(this.db, c.tenant_id, c.contact_id);
      if (contact?.email && !contact.erasedAt) {
        const token = await this.links.sign({
          kind: 'c',
          tenantId: c.tenant_id,
          contactId: c.contact_id,
          logId: c.log_id,
          expiresAt: Math.floor(c.expires_at.getTime() / 1000),
        });
        const url = `${this.links.baseUrl()}/consent/confirm/${token}`;
        try {
          await this.mailer.send({
            to: contact.email,
            subject: 'Please confirm your subscription',
            text: `Please confirm that we may contact you by ${c.channel}:\n\n${url}\n\nThe link is valid for 7 days. If you did not ask for this, ignore this message.`,
            messageId: `<confirm.${c.log_id}@ledgerline>`,
          });
        } catch (err) {
          const last = c.attempts >= CONFIRMATION_MAX_ATTEMPTS;
          this.logger.warn(
            `confirmation ${c.log_id} not mailed (attempt ${c.attempts}${last ? ', given up' : ''}): ${(err as Error).message}`,
          );
          continue;
        }
        sent++;
      }
      await this.log.markMailed(c.tenant_id, c.log_id, now);
    }
    return sent;
  }
}

/** Deletes raw events and message bodies past each tenant's retention (audit entries stay). */
@Injectable()
export class RetentionPurger {
  private readonly logger = new Logger(RetentionPurger.name);

  constructor(
    private readonly settings: ConsentSettingsRepository,
    private readonly participants: ErasureRegistry,
    private readonly clock: Clock,
  ) {}

  /** Daily work, checked hourly so that a worker restarted every day still purges. */
  @Periodic('retention-purge', 3600e3)
  async purge(): Promise<number> {
    const now = this.clock.now().getTime();
    let purged = 0;
    for (const t of await this.settings.withRetention()) {
      for (const p of this.participants.all()) {
        const days = p.retention === 'events' ? t.eventsDays : t.messagesDays;
        if (days === null) continue;
        purged += await p.purgeBefore(t.tenantId, new Date(now - days * DAY_MS));
      }
    }
    if (purged) this.logger.log(`retention purged ${purged} rows`);
    return purged;
  }
}
