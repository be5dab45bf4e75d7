import { Injectable } from '@nestjs/common';
import { Sql } from '@app/platform';
import { ContactRepository } from './contact.repository';
import { ConsentLogRepository } from './consent-log.repository';
import { ConsentSettingsRepository } from './consent-settings.repository';
import { Channel } from './consent.types';
import { GateReader } from './consent-gate';

/** The gate's reads: three primary-key or index lookups (contact, newest log record, settings). */
@Injectable()
export class ConsentGateReader implements GateReader {
  constructor(
    private readonly contacts: ContactRepository,
    private readonly log: ConsentLogRepository,
    private readonly settings: ConsentSettingsRepository,
  ) {}

  async read(sql: Sql, tenantId: string, contactId: string, channel: Channel) {
    const contact = await this.contacts.find(sql, tenantId, contactId);
    const current = contact ? await this.log.current(sql, tenantId, contactId, channel) : null;
    const { mode } = await this.settings.consent(sql, tenantId);
    return {
      contact,
      state: current?.status ?? ('unknown' as const),
      logId: current?.id ?? null,
      mode,
    };
  }
}
