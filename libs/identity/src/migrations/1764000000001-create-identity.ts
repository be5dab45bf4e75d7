import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateIdentity1764000000001 implements MigrationInterface {
  name = 'CreateIdentity1764000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenants (
        id uuid NOT NULL,
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT tenants_pk PRIMARY KEY (id)
      )`);
    // The key itself is never stored: a lookup prefix and a SHA-256 of the whole key.
    await q.query(`
      CREATE TABLE api_keys (
        tenant_id uuid NOT NULL REFERENCES tenants (id),
        id uuid NOT NULL,
        name text NOT NULL,
        prefix text NOT NULL,
        key_hash bytea NOT NULL,
        scopes text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        CONSTRAINT api_keys_pk PRIMARY KEY (tenant_id, id),
        CONSTRAINT api_keys_prefix_uq UNIQUE (prefix)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE api_keys');
    await q.query('DROP TABLE tenants');
  }
}
