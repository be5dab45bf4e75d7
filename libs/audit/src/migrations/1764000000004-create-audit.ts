import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAudit1764000000004 implements MigrationInterface {
  name = 'CreateAudit1764000000004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_entries (
        tenant_id uuid NOT NULL,
        chain text NOT NULL,
        seq bigint NOT NULL,
        event_id uuid NOT NULL,
        type text NOT NULL,
        subject text,
        actor jsonb NOT NULL,
        acting_as_tenant_id uuid,
        data jsonb NOT NULL,
        occurred_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL,
        prev_hash text NOT NULL,
        hash text NOT NULL,
        CONSTRAINT audit_entries_pk PRIMARY KEY (tenant_id, chain, seq),
        CONSTRAINT audit_entries_event_uq UNIQUE (tenant_id, chain, event_id),
        CONSTRAINT audit_entries_seq_positive CHECK (seq >= 1)
      )`);
    await q.query(
      `CREATE INDEX audit_entries_type_idx ON audit_entries (tenant_id, chain, type, seq)`,
    );
    await q.query(`
      CREATE TABLE audit_chain_heads (
        tenant_id uuid NOT NULL,
        chain text NOT NULL,
        seq bigint NOT NULL DEFAULT 0,
        hash text NOT NULL DEFAULT repeat('0', 64),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT audit_chain_heads_pk PRIMARY KEY (tenant_id, chain)
      )`);
    await q.query(`
      CREATE TABLE audit_checkpoints (
        tenant_id uuid NOT NULL,
        chain text NOT NULL,
        seq bigint NOT NULL,
        hash text NOT NULL,
        signed_at timestamptz NOT NULL,
        signature text NOT NULL,
        CONSTRAINT audit_checkpoints_pk PRIMARY KEY (tenant_id, chain, seq)
      )`);
    // The audit record is append-only whatever the application does.
    await q.query(`
      CREATE FUNCTION audit_entries_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_entries is append-only: % is not allowed', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_entries_no_update_delete BEFORE UPDATE OR DELETE ON audit_entries
      FOR EACH ROW EXECUTE FUNCTION audit_entries_immutable()`);
    await q.query(`
      CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
      FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_immutable()`);
    await q.query(`
      CREATE TRIGGER audit_checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON audit_checkpoints
      FOR EACH ROW EXECUTE FUNCTION audit_entries_immutable()`);
    await q.query(`
      CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
      FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_immutable()`);
    // A chain head only moves forward.
    await q.query(`
      CREATE FUNCTION audit_chain_heads_forward() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' OR NEW.seq < OLD.seq OR NEW.tenant_id <> OLD.tenant_id OR NEW.chain <> OLD.chain THEN
          RAISE EXCEPTION 'audit chain heads only move forward' USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_chain_heads_forward BEFORE UPDATE OR DELETE ON audit_chain_heads
      FOR EACH ROW EXECUTE FUNCTION audit_chain_heads_forward()`);
    await q.query(`
      CREATE TRIGGER audit_chain_heads_no_truncate BEFORE TRUNCATE ON audit_chain_heads
      FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_immutable()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE audit_checkpoints, audit_chain_heads, audit_entries');
    await q.query('DROP FUNCTION audit_entries_immutable(), audit_chain_heads_forward()');
  }
}
