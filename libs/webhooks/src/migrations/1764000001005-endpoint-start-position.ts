import { MigrationInterface, QueryRunner } from 'typeorm';

export class EndpointStartPosition1764000001005 implements MigrationInterface {
  name = 'EndpointStartPosition1764000001005';

  async up(q: QueryRunner): Promise<void> {
    // An endpoint receives the tenant's events after this stream position: the position before
    // its own webhook.endpoint.created event, taken in the transaction that creates it. A time
    // (created_at against received_at) could not order an endpoint against events committed
    // while fan-out ran; positions can (see WebhookFanout). Existing endpoints keep what the
    // time rule gave them: every event received from their creation on.
    await q.query(`ALTER TABLE webhook_endpoints ADD COLUMN starts_after_position bigint`);
    await q.query(`
      UPDATE webhook_endpoints e SET starts_after_position = coalesce(
        (SELECT max(ev.position) FROM events ev
         WHERE ev.tenant_id = e.tenant_id AND ev.received_at < e.created_at), 0)`);
    await q.query(
      `ALTER TABLE webhook_endpoints ALTER COLUMN starts_after_position SET NOT NULL,
                                     ALTER COLUMN starts_after_position SET DEFAULT 0`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_endpoints DROP COLUMN starts_after_position`);
  }
}
