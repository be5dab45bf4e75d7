import { MigrationInterface, QueryRunner } from 'typeorm';

export class EndpointSlowLane1764000000006 implements MigrationInterface {
  name = 'EndpointSlowLane1764000000006';

  async up(q: QueryRunner): Promise<void> {
    // Until when the endpoint's attempts go through the slow lane (shared by every worker).
    await q.query(`ALTER TABLE webhook_endpoints ADD COLUMN slow_until timestamptz`);
    await q.query(
      `CREATE INDEX webhook_endpoints_slow_idx ON webhook_endpoints (slow_until) WHERE slow_until IS NOT NULL`,
    );
    // Due deliveries, oldest first, with the endpoint in the index so that the slow lane finds a
    // slow endpoint's share without visiting rows. It replaces the old due index rather than
    // adding one: every claim moves next_attempt_at, so each index costs every attempt a write.
    // The endpoint comes second so no per-endpoint lookup (the claim's) is tempted to use it.
    await q.query(`DROP INDEX webhook_deliveries_due_idx`);
    await q.query(
      `CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at, endpoint_id) WHERE status = 'pending'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX webhook_deliveries_due_idx`);
    await q.query(
      `CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`,
    );
    await q.query(`DROP INDEX webhook_endpoints_slow_idx`);
    await q.query(`ALTER TABLE webhook_endpoints DROP COLUMN slow_until`);
  }
}
