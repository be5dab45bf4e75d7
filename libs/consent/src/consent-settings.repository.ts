import { Injectable } from '@nestjs/common';
import { Database, Sql, Tx } from '@app/platform';
import { ConsentMode, ConsentSettings, DEFAULT_SETTINGS, RetentionSettings } from './consent.types';

interface SettingsRow {
  mode: ConsentMode;
  double_opt_in: boolean;
  time_zone: string;
  quiet_start: string;
  quiet_end: string;
  messages_days: number | null;
  events_days: number | null;
}

/** consent_settings: one row per tenant that changed the defaults (mode, quiet hours, retention). */
@Injectable()
export class ConsentSettingsRepository {
  constructor(private readonly db: Database) {}

  private async row(sql: Sql, tenantId: string): Promise<SettingsRow | null> {
    const [row] = await sql.query<SettingsRow>(
      `SELECT mode, double_opt_in, time_zone, quiet_start, quiet_end, messages_days, events_days
       FROM consent_settings WHERE tenant_id = $1`,
      [tenantId],
      'consent_settings',
    );
    return row ?? null;
  }

  async consent(sql: Sql, tenantId: string): Promise<ConsentSettings> {
    const r = await this.row(sql, tenantId);
    if (!r) return { ...DEFAULT_SETTINGS, quietHours: { ...DEFAULT_SETTINGS.quietHours } };
    return {
      mode: r.mode,
      doubleOptIn: r.double_opt_in,
      timeZone: r.time_zone,
      quietHours: { start: r.quiet_start, end: r.quiet_end },
    };
  }

  async retention(sql: Sql, tenantId: string): Promise<RetentionSettings> {
    const r = await this.row(sql, tenantId);
    return { messagesDays: r?.messages_days ?? null, eventsDays: r?.events_days ?? null };
  }

  async putConsent(tx: Tx, tenantId: string, s: ConsentSettings, at: Date): Promise<void> {
    await tx.query(
      `INSERT INTO consent_settings (tenant_id, mode, double_opt_in, time_zone, quiet_start,
                                     quiet_end, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (tenant_id) DO UPDATE SET mode = $2, double_opt_in = $3, time_zone = $4,
         quiet_start = $5, quiet_end = $6, updated_at = $7`,
      [tenantId, s.mode, s.doubleOptIn, s.timeZone, s.quietHours.start, s.quietHours.end, at],
    );
  }

  async putRetention(tx: Tx, tenantId: string, r: RetentionSettings, at: Date): Promise<void> {
    await tx.query(
      `INSERT INTO consent_settings (tenant_id, messages_days, events_days, updated_at)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (tenant_id) DO UPDATE SET messages_days = $2, events_days = $3, updated_at = $4`,
      [tenantId, r.messagesDays, r.eventsDays, at],
    );
  }

  /** Tenants with a retention period set. */
  async withRetention(): Promise<({ tenantId: string } & RetentionSettings)[]> {
    const rows = await this.db.query<{
      tenant_id: string;
      messages_days: number | null;
      events_days: number | null;
    }>(
      `SELECT tenant_id, messages_days, events_days FROM consent_settings
       WHERE messages_days IS NOT NULL OR events_days IS NOT NULL`,
    );
    return rows.map((r) => ({
      tenantId: r.tenant_id,
      messagesDays: r.messages_days,
      eventsDays: r.events_days,
    }));
  }
}
