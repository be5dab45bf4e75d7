import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateEventStore1764000000002 implements MigrationInterface {
  name = 'CreateEventStore1764000000002';

  async up(q: QueryRunner): Promise<void> {
    // One row per tenant: the last position handed out. Its row lock orders a tenant's commits,
    // so a reader that sees position n has seen every position before it.
    await q.query(`
      CREATE TABLE tenant_streams (
        tenant_id uuid NOT NULL,
        position bigint NOT NULL,
        CONSTRAINT tenant_streams_pk PRIMARY KEY (tenant_id)
      )`);
    await q.query(`
      CREATE TABLE events (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        position bigint NOT NULL,
        type text NOT NULL,
        subject text,
        actor_type text NOT NULL,
        actor_id text NOT NULL,
        acting_as_tenant_id uuid,
        occurred_at timestamptz NOT NULL,
        received_at timestamptz NOT NULL,
        data jsonb NOT NULL,
        CONSTRAINT events_pk PRIMARY KEY (tenant_id, id),
        CONSTRAINT events_position_uq UNIQUE (tenant_id, position)
      )`);
    // How far each background consumer (audit, fanout, ...) has processed each tenant's stream.
    await q.query(`
      CREATE TABLE stream_cursors (
        tenant_id uuid NOT NULL,
        consumer text NOT NULL,
        position bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT stream_cursors_pk PRIMARY KEY (tenant_id, consumer)
      )`);
    await q.query(`
      CREATE TABLE idempotency_keys (
        tenant_id uuid NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        response_status int NOT NULL,
        response_body jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT idempotency_keys_pk PRIMARY KEY (tenant_id, key)
      )`);
    await q.query('CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE idempotency_keys, stream_cursors, events, tenant_streams');
  }
}
