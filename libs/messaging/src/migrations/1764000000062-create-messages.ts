import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateMessages1764000000062 implements MigrationInterface {
  name = 'CreateMessages1764000000062';

  async up(q: QueryRunner): Promise<void> {
    // status: queued | scheduled | sending (internal: a worker holds it until lease_until) |
    // sent | failed | suppressed. The address is never stored: it is read from the contact when
    // the message goes out, so erasing the contact leaves nothing here but subject/body (erased).
    await q.query(`
      CREATE TABLE messages (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        contact_id uuid NOT NULL,
        channel text NOT NULL,
        category text NOT NULL,
        subject text,
        body text,
        status text NOT NULL,
        reason text,
        send_at timestamptz,
        sent_at timestamptz,
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        lease_until timestamptz,
        swept_at timestamptz,
        last_error text,
        checks jsonb NOT NULL DEFAULT '[]',
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        CONSTRAINT messages_pk PRIMARY KEY (tenant_id, id),
        CONSTRAINT messages_status_ck
          CHECK (status IN ('queued', 'scheduled', 'sending', 'sent', 'failed', 'suppressed')),
        CONSTRAINT messages_category_ck CHECK (category IN ('marketing', 'transactional'))
      )`);
    await q.query(`CREATE INDEX messages_contact_idx ON messages (tenant_id, contact_id)`);
    // The sweeper's scan for owed work: only unfinished messages are in it.
    await q.query(
      `CREATE INDEX messages_due_idx ON messages (next_attempt_at)
       WHERE status IN ('queued', 'scheduled', 'sending')`,
    );
    await q.query(`CREATE INDEX messages_created_idx ON messages (tenant_id, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE messages');
  }
}
