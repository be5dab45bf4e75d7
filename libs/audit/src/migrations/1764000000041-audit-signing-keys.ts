import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Key rotation: every key that ever signed a checkpoint is listed (append-only), and each
 * checkpoint names its key. Checkpoints signed before this migration keep key_id NULL ("legacy")
 * and verify under any listed key: the key that signed them cannot be known for sure here (it
 * may come from LEDGERLINE_SIGNING_KEY, which migrations do not read), and rewriting them would
 * mean updating an append-only table. The development key kept in service_keys is listed now,
 * the configured key when it first signs after the upgrade.
 *
 * A listed key is trusted only with an endorsement (audit_signing_keys_endorsements, append-only):
 * the statement naming its keyId sealed under the master key, which the database owner does not
 * hold, so inserting a key of one's own into audit_signing_keys earns it no trust. The service
 * endorses a key when it first signs with it (no endorsement can be made here: migrations do not
 * read the master key; the development key is trusted because its sealed private key opens), and
 * `secrets rekey` appends a new endorsement under a new master key.
 */
export class AuditSigningKeys1764000000041 implements MigrationInterface {
  name = 'AuditSigningKeys1764000000041';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_signing_keys (
        key_id text NOT NULL,
        public_key_pem text NOT NULL,
        first_used_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT audit_signing_keys_pk PRIMARY KEY (key_id),
        CONSTRAINT audit_signing_keys_key_id_hex CHECK (key_id ~ '^[0-9a-f]{64}$')
      )`);
    await q.query(`
      CREATE TRIGGER audit_signing_keys_no_update_delete BEFORE UPDATE OR DELETE ON audit_signing_keys
      FOR EACH ROW EXECUTE FUNCTION audit_entries_immutable()`);
    await q.query(`
      CREATE TRIGGER audit_signing_keys_no_truncate BEFORE TRUNCATE ON audit_signing_keys
      FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_immutable()`);
    await q.query(`
      CREATE TABLE audit_signing_keys_endorsements (
        key_id text NOT NULL CONSTRAINT audit_signing_keys_endorsements_key_fk
          REFERENCES audit_signing_keys (key_id),
        endorsement text NOT NULL,
        endorsed_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT audit_signing_keys_endorsements_pk PRIMARY KEY (key_id, endorsement)
      )`);
    await q.query(`
      CREATE TRIGGER audit_signing_keys_endorsements_no_update_delete
      BEFORE UPDATE OR DELETE ON audit_signing_keys_endorsements
      FOR EACH ROW EXECUTE FUNCTION audit_entries_immutable()`);
    await q.query(`
      CREATE TRIGGER audit_signing_keys_endorsements_no_truncate
      BEFORE TRUNCATE ON audit_signing_keys_endorsements
      FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_immutable()`);
    await q.query(`
      ALTER TABLE audit_checkpoints ADD COLUMN key_id text
        CONSTRAINT audit_checkpoints_key_fk REFERENCES audit_signing_keys (key_id)`);
    // keyId = hex SHA-256 of the SPKI DER, which is the base64 body of the PEM.
    await q.query(`
      INSERT INTO audit_signing_keys (key_id, public_key_pem, first_used_at)
      SELECT encode(sha256(decode(regexp_replace(public_key_pem, '-----[A-Z ]+-----|\\s', '', 'g'), 'base64')), 'hex'),
             public_key_pem,
             coalesce((SELECT min(signed_at) FROM audit_checkpoints), created_at, now())
      FROM service_keys WHERE purpose = 'audit_signing'
      ON CONFLICT DO NOTHING`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE audit_checkpoints DROP COLUMN key_id');
    await q.query('DROP TABLE audit_signing_keys_endorsements');
    await q.query('DROP TABLE audit_signing_keys');
  }
}
