import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateApproverNotices1764000000072 implements MigrationInterface {
  name = 'CreateApproverNotices1764000000072';

  async up(q: QueryRunner): Promise<void> {
    // One notice per waiting action and approver: the unique key makes a replayed event a no-op.
    await q.query(`
      CREATE TABLE approver_notices (
        tenant_id uuid NOT NULL,
        action_id uuid NOT NULL,
        user_id uuid NOT NULL,
        action_type text NOT NULL,
        risk text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        attempts int NOT NULL DEFAULT 0,
        last_attempt_at timestamptz,
        last_error text,
        sent_at timestamptz,
        CONSTRAINT approver_notices_pk PRIMARY KEY (tenant_id, action_id, user_id)
      )`);
    await q.query(
      `CREATE INDEX approver_notices_due_idx ON approver_notices (tenant_id, created_at)
       WHERE sent_at IS NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE approver_notices');
  }
}
