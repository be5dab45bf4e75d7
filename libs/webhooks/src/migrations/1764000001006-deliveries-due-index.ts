import { MigrationInterface, QueryRunner } from 'typeorm';

export class DeliveriesDueIndex1764000001006 implements MigrationInterface {
  name = 'DeliveriesDueIndex1764000001006';

  async up(q: QueryRunner): Promise<void> {
    // The same rows (a delivery has a next attempt time exactly while it is pending), under a
    // predicate that `status = 'pending'` alone does not imply. Statements that move deliveries
    // found by primary key also say `status = 'pending'`; under the old predicate, with
    // statistics taken before a backlog arrived, PostgreSQL read every pending delivery through
    // this index for each batch of outcomes (thousands of rows per statement in a drain).
    // Sweeps name next_attempt_at, so they still use it.
    await q.query(`DROP INDEX webhook_deliveries_due_idx`);
    await q.query(
      `CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at, endpoint_id)
       WHERE next_attempt_at IS NOT NULL`,
    );
    // The index's rows are the pending ones only while this holds. NOT VALID: checked on every
    // write from now on, without a scan of past rows under lock.
    await q.query(
      `ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_due_ck
       CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL)) NOT VALID`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_due_ck`);
    await q.query(`DROP INDEX webhook_deliveries_due_idx`);
    await q.query(
      `CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at, endpoint_id) WHERE status = 'pending'`,
    );
  }
}
