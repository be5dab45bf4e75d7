import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAiActions1764000000051 implements MigrationInterface {
  name = 'CreateAiActions1764000000051';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE ai_policies (
        tenant_id uuid NOT NULL,
        type text NOT NULL,
        risk text NOT NULL,
        required_approvals int,
        auto_approve jsonb,
        version int NOT NULL DEFAULT 1,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ai_policies_pk PRIMARY KEY (tenant_id, type),
        CONSTRAINT ai_policies_risk_ck CHECK (risk IN ('low', 'medium', 'high')),
        CONSTRAINT ai_policies_version_ck CHECK (version >= 1)
      )`);
    await q.query(`
      CREATE TABLE ai_settings (
        tenant_id uuid NOT NULL,
        paused boolean NOT NULL,
        reason text,
        updated_at timestamptz NOT NULL,
        CONSTRAINT ai_settings_pk PRIMARY KEY (tenant_id)
      )`);
    // The queue: a projection of each action's steps, with the row lock that settles races.
    await q.query(`
      CREATE TABLE ai_actions (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        type text NOT NULL,
        agent_id text NOT NULL,
        risk text NOT NULL,
        status text NOT NULL,
        auto_approved boolean NOT NULL,
        version int NOT NULL,
        view jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        CONSTRAINT ai_actions_pk PRIMARY KEY (tenant_id, id),
        CONSTRAINT ai_actions_risk_ck CHECK (risk IN ('low', 'medium', 'high'))
      )`);
    await q.query(`CREATE INDEX ai_actions_queue_idx ON ai_actions (tenant_id, status, id)`);
    await q.query(
      `CREATE INDEX ai_actions_budget_idx ON ai_actions (tenant_id, type, agent_id, created_at)
       WHERE auto_approved`,
    );
    await q.query(
      `CREATE INDEX ai_actions_expiry_idx ON ai_actions (tenant_id, expires_at)
       WHERE status = 'pending_approval'`,
    );
    await q.query(
      `CREATE INDEX ai_actions_executable_idx ON ai_actions (tenant_id, type, id)
       WHERE status IN ('approved', 'auto_approved')`,
    );
    // Each action's steps: its record, append-only whatever the application does.
    await q.query(`
      CREATE TABLE ai_action_steps (
        tenant_id uuid NOT NULL,
        action_id uuid NOT NULL,
        seq int NOT NULL,
        kind text NOT NULL,
        at timestamptz NOT NULL,
        principal_type text,
        principal_id text,
        revision int NOT NULL,
        step jsonb NOT NULL,
        CONSTRAINT ai_action_steps_pk PRIMARY KEY (tenant_id, action_id, seq),
        CONSTRAINT ai_action_steps_action_fk FOREIGN KEY (tenant_id, action_id)
          REFERENCES ai_actions (tenant_id, id),
        CONSTRAINT ai_action_steps_seq_ck CHECK (seq >= 1)
      )`);
    // One vote per approver and revision: the database says already_decided too.
    await q.query(`
      CREATE UNIQUE INDEX ai_action_steps_one_vote_uq
      ON ai_action_steps (tenant_id, action_id, revision, principal_type, principal_id)
      WHERE kind IN ('approved', 'rejected')`);
    await q.query(`
      CREATE TRIGGER ai_action_steps_no_update_delete BEFORE UPDATE OR DELETE ON ai_action_steps
      FOR EACH ROW EXECUTE FUNCTION audit_entries_immutable()`);
    await q.query(`
      CREATE TRIGGER ai_action_steps_no_truncate BEFORE TRUNCATE ON ai_action_steps
      FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_immutable()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE ai_action_steps, ai_actions, ai_settings, ai_policies');
  }
}
