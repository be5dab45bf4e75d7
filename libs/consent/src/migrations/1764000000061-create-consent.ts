import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateConsent1764000000061 implements MigrationInterface {
  name = 'CreateConsent1764000000061';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE contacts (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        external_id text NOT NULL,
        email text,
        phone text,
        whatsapp text,
        postal_address text,
        time_zone text,
        do_not_contact boolean NOT NULL DEFAULT false,
        do_not_contact_reason text,
        erased_at timestamptz,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        CONSTRAINT contacts_pk PRIMARY KEY (tenant_id, id),
        CONSTRAINT contacts_external_id_uq UNIQUE (tenant_id, external_id)
      )`);
    // The consent log: every change, never updated or deleted (the database refuses it). The
    // current state of a channel is its newest record (highest seq).
    await q.query(`
      CREATE TABLE consent_log (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        seq bigint GENERATED ALWAYS AS IDENTITY,
        contact_id uuid NOT NULL,
        channel text NOT NULL,
        status text NOT NULL,
        source text NOT NULL,
        legal_basis text,
        evidence jsonb,
        actor_type text NOT NULL,
        actor_id text,
        ip text,
        user_agent text,
        recorded_at timestamptz NOT NULL,
        CONSTRAINT consent_log_pk PRIMARY KEY (tenant_id, id),
        CONSTRAINT consent_log_contact_fk FOREIGN KEY (tenant_id, contact_id)
          REFERENCES contacts (tenant_id, id),
        CONSTRAINT consent_log_channel_ck
          CHECK (channel IN ('email', 'sms', 'whatsapp', 'phone', 'postal')),
        CONSTRAINT consent_log_status_ck
          CHECK (status IN ('granted', 'withdrawn', 'denied', 'pending_confirmation'))
      )`);
    await q.query(
      `CREATE INDEX consent_log_current_idx ON consent_log (tenant_id, contact_id, channel, seq DESC)`,
    );
    await q.query(`
      CREATE TRIGGER consent_log_no_update_delete BEFORE UPDATE OR DELETE ON consent_log
      FOR EACH ROW EXECUTE FUNCTION audit_entries_immutable()`);
    await q.query(`
      CREATE TRIGGER consent_log_no_truncate BEFORE TRUNCATE ON consent_log
      FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_immutable()`);
    // Double opt-in confirmations still to be mailed (the worker mails them, then marks them).
    await q.query(`
      CREATE TABLE consent_confirmations (
        tenant_id uuid NOT NULL,
        log_id uuid NOT NULL,
        contact_id uuid NOT NULL,
        channel text NOT NULL,
        expires_at timestamptz NOT NULL,
        mailed_at timestamptz,
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT consent_confirmations_pk PRIMARY KEY (tenant_id, log_id)
      )`);
    await q.query(
      `CREATE INDEX consent_confirmations_unmailed_idx ON consent_confirmations (next_attempt_at)
       WHERE mailed_at IS NULL`,
    );
    await q.query(`
      CREATE TABLE consent_settings (
        tenant_id uuid NOT NULL,
        mode text NOT NULL DEFAULT 'standard',
        double_opt_in boolean NOT NULL DEFAULT false,
        time_zone text NOT NULL DEFAULT 'UTC',
        quiet_start text NOT NULL DEFAULT '21:00',
        quiet_end text NOT NULL DEFAULT '08:00',
        messages_days int,
        events_days int,
        updated_at timestamptz NOT NULL,
        CONSTRAINT consent_settings_pk PRIMARY KEY (tenant_id),
        CONSTRAINT consent_settings_mode_ck CHECK (mode IN ('standard', 'gdpr', 'ccpa'))
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE consent_settings, consent_confirmations, consent_log, contacts');
  }
}
