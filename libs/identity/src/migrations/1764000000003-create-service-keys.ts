import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateServiceKeys1764000000003 implements MigrationInterface {
  name = 'CreateServiceKeys1764000000003';

  async up(q: QueryRunner): Promise<void> {
    // Keys of the service itself (not of a tenant), sealed under the master key.
    await q.query(`
      CREATE TABLE service_keys (
        purpose text NOT NULL,
        sealed_private_key text NOT NULL,
        public_key_pem text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT service_keys_pk PRIMARY KEY (purpose)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE service_keys');
  }
}
