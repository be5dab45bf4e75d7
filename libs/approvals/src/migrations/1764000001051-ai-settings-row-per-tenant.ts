import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A tenant's kill-switch row is created (not paused, never set: updated_at NULL) by its first
 * submission, so every submission has a row to hold FOR SHARE and the first pause ever waits
 * for the submissions in flight like every later one.
 */
export class AiSettingsRowPerTenant1764000001051 implements MigrationInterface {
  name = 'AiSettingsRowPerTenant1764000001051';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE ai_settings ALTER COLUMN updated_at DROP NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM ai_settings WHERE updated_at IS NULL`);
    await q.query(`ALTER TABLE ai_settings ALTER COLUMN updated_at SET NOT NULL`);
  }
}
