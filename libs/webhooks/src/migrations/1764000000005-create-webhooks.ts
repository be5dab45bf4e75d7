import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateWebhooks1764000000005 implements MigrationInterface {
  name = 'CreateWebhooks1764000000005';

  async up(q: QueryRunner): Promise<void> {
    // Secrets are sealed (AES-256-GCM); the key id is kept beside them so rekey finds stale rows.
    await q.query(`
      CREATE TABLE webhook_endpoints (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        url text NOT NULL,
        event_types text[] NOT NULL,
        description text,
        rate_limit_per_second int,
        status text NOT NULL DEFAULT 'enabled',
        disabled_reason text,
        secret_sealed text NOT NULL,
        secret_key_id text NOT NULL,
        previous_secret_sealed text,
        previous_secret_key_id text,
        previous_secret_expires_at timestamptz,
        consecutive_failures int NOT NULL DEFAULT 0,
        failing_since timestamptz,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz,
        CONSTRAINT webhook_endpoints_pk PRIMARY KEY (tenant_id, id),
        CONSTRAINT webhook_endpoints_status_ck CHECK (status IN ('enabled', 'disabled'))
      )`);
    await q.query(`
      CREATE TABLE webhook_deliveries (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        endpoint_id uuid NOT NULL,
        event_id uuid NOT NULL,
        event_type text NOT NULL,
        status text NOT NULL,
        attempt_count int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT webhook_deliveries_pk PRIMARY KEY (tenant_id, id),
        CONSTRAINT webhook_deliveries_event_endpoint_uq UNIQUE (tenant_id, event_id, endpoint_id),
        CONSTRAINT webhook_deliveries_status_ck CHECK (status IN ('pending', 'succeeded', 'failed', 'waiting'))
      )`);
    await q.query(
      `CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (tenant_id, endpoint_id, created_at)`,
    );
    // The sweeper's cross-tenant scan for due work: small, because only pending rows are in it.
    await q.query(
      `CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`,
    );
    await q.query(`
      CREATE TABLE webhook_attempts (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        delivery_id uuid NOT NULL,
        endpoint_id uuid NOT NULL,
        attempted_at timestamptz NOT NULL,
        status_code int,
        duration_ms int NOT NULL,
        error text,
        response_body text,
        CONSTRAINT webhook_attempts_pk PRIMARY KEY (tenant_id, id)
      )`);
    await q.query(
      `CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (tenant_id, delivery_id, attempted_at)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE webhook_attempts, webhook_deliveries, webhook_endpoints');
  }
}
