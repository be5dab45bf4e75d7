import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreatePeople1764000000071 implements MigrationInterface {
  name = 'CreatePeople1764000000071';

  async up(q: QueryRunner): Promise<void> {
    // An email names one account across tenants: the sign-in form asks for nothing else.
    await q.query(`
      CREATE TABLE users (
        tenant_id uuid NOT NULL REFERENCES tenants (id),
        id uuid NOT NULL,
        email text NOT NULL,
        role text NOT NULL,
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        password_changed_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT users_pk PRIMARY KEY (tenant_id, id),
        CONSTRAINT users_email_uq UNIQUE (email),
        CONSTRAINT users_email_lower_ck CHECK (email = lower(email)),
        CONSTRAINT users_role_ck CHECK (role IN ('owner', 'admin', 'approver', 'member', 'viewer'))
      )`);
    // Server-side sessions: only a SHA-256 of the cookie's id is kept.
    await q.query(`
      CREATE TABLE sessions (
        id_hash bytea NOT NULL,
        tenant_id uuid NOT NULL,
        user_id uuid NOT NULL,
        created_at timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL,
        CONSTRAINT sessions_pk PRIMARY KEY (id_hash),
        CONSTRAINT sessions_user_fk FOREIGN KEY (tenant_id, user_id)
          REFERENCES users (tenant_id, id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX sessions_user_idx ON sessions (tenant_id, user_id)`);
    await q.query(`CREATE INDEX sessions_created_idx ON sessions (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE sessions');
    await q.query('DROP TABLE users');
  }
}
