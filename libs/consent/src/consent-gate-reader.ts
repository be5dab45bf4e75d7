import { Injectable } from '@nestjs/common';
import { Sql } from '@app/platform';
import { CONTACT_COLUMNS, ContactRow, toContact } from './contact.repository';
import { Channel, ConsentMode, DEFAULT_SETTINGS, LogStatus } from './consent.types';
import { GateRead, GateReader } from './consent-gate';

type GateRow = Partial<ContactRow> & {
  log_id: string | null;
  log_status: LogStatus | null;
  mode: ConsentMode | null;
  tz: string | null;
  quiet_start: string | null;
  quiet_end: string | null;
};

const cols = CONTACT_COLUMNS.split(', ')
  .map((c) => `c.${c}`)
  .join(', ');

/**
 * The gate's read, one round trip: the contact (primary key), the channel's newest consent-log
 * record (an index scan of one row) and the tenant's settings (primary key).
 */
const GATE_READ = `
  SELECT ${cols}, l.id AS log_id, l.status AS log_status, s.mode, s.time_zone AS tz,
         s.quiet_start, s.quiet_end
  FROM (SELECT $1::uuid AS tenant_id, $2::uuid AS contact_id) k
  LEFT JOIN contacts c ON c.tenant_id = k.tenant_id AND c.id = k.contact_id
  LEFT JOIN LATERAL (
    SELECT id, status FROM consent_log
    WHERE tenant_id = k.tenant_id AND contact_id = k.contact_id AND channel = $3
    ORDER BY seq DESC LIMIT 1) l ON true
  LEFT JOIN consent_settings s ON s.tenant_id = k.tenant_id`;

@Injectable()
export class ConsentGateReader implements GateReader {
  async read(sql: Sql, tenantId: string, contactId: string, channel: Channel): Promise<GateRead> {
    const [r] = await sql.query<GateRow>(
      GATE_READ,
      [tenantId, contactId, channel],
      'consent_gate_read',
    );
    return {
      contact: r.id ? toContact(r as ContactRow) : null,
      state: r.log_status ?? 'unknown',
      logId: r.log_id,
      mode: r.mode ?? DEFAULT_SETTINGS.mode,
      settings: {
        timeZone: r.tz ?? DEFAULT_SETTINGS.timeZone,
        quietHours: {
          start: r.quiet_start ?? DEFAULT_SETTINGS.quietHours.start,
          end: r.quiet_end ?? DEFAULT_SETTINGS.quietHours.end,
        },
      },
    };
  }
}
