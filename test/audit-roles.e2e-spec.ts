import { Client } from 'pg';
import { Ledgerline, RUNTIME_ROLE, event, waitFor } from './support/ledgerline';

/**
 * The application runs as a role that may only read and append to the audit tables: every way a
 * table owner could get past the append-only triggers is refused to it by PostgreSQL itself.
 */
describe('audit tables against the runtime role', () => {
  let ll: Ledgerline;
  let app: Client;
  let tenantId: string;

  beforeAll(async () => {
    ll = await Ledgerline.start({ env: { AUDIT_CHECKPOINT_INTERVAL_MS: '300' } });
    const t = await ll.createTenant('roles');
    tenantId = t.tenantId;
    const res = await ll.request('POST', '/v1/events', { key: t.apiKey, body: event() });
    expect(res.status).toBe(202);
    await waitFor('a checkpoint', async () => {
      const [r] = await ll.sql(
        `SELECT count(*)::int AS n FROM audit_checkpoints WHERE tenant_id = $1`,
        [tenantId],
      );
      return r.n > 0;
    });
    app = new Client({ connectionString: ll.appDbUrl });
    await app.connect();
  });
  afterAll(async () => {
    await app?.end().catch(() => undefined);
    await ll?.stop();
  });

  /** The error the runtime role gets for a statement (null when it went through). */
  async function asApp(statement: string): Promise<{ code?: string; message: string } | null> {
    return app.query(statement).then(
      () => null,
      (err: { code?: string; message: string }) => err,
    );
  }

  it('connects as the runtime role, which is not the owner', async () => {
    const { rows } = await app.query(
      `SELECT current_user AS role, pg_get_userbyid(relowner) AS owner
       FROM pg_class WHERE relname = 'audit_entries'`,
    );
    expect(rows).toEqual([{ role: RUNTIME_ROLE, owner: 'postgres' }]);
    // and the application got what it needs: the chain was appended and signed as this role
    const { rows: entries } = await app.query(
      `SELECT count(*)::int AS n FROM audit_entries WHERE tenant_id = $1`,
      [tenantId],
    );
    expect(entries[0].n).toBe(3);
  });

  it.each([
    ['UPDATE audit_entries', `UPDATE audit_entries SET data = '{}'`],
    ['DELETE audit_entries', 'DELETE FROM audit_entries'],
    ['TRUNCATE audit_entries', 'TRUNCATE audit_entries'],
    ['DELETE audit_checkpoints', 'DELETE FROM audit_checkpoints'],
    ['UPDATE audit_checkpoints', `UPDATE audit_checkpoints SET hash = repeat('0', 64)`],
    ['TRUNCATE audit_checkpoints', 'TRUNCATE audit_checkpoints'],
    ['DELETE audit_signing_keys', 'DELETE FROM audit_signing_keys'],
    ['DISABLE TRIGGER', 'ALTER TABLE audit_entries DISABLE TRIGGER USER'],
    ['DISABLE TRIGGER ALL', 'ALTER TABLE audit_checkpoints DISABLE TRIGGER ALL'],
    ['session_replication_role', 'SET session_replication_role = replica'],
    [
      'ALTER COLUMN ... USING',
      `ALTER TABLE audit_entries ALTER COLUMN data TYPE jsonb USING '{"rewritten": true}'::jsonb`,
    ],
    ['DROP TRIGGER', 'DROP TRIGGER audit_entries_no_update_delete ON audit_entries'],
    ['DROP TABLE', 'DROP TABLE audit_checkpoints'],
  ])('refuses %s with insufficient_privilege', async (_name, statement) => {
    const err = await asApp(statement);
    expect(err).not.toBeNull();
    expect(err!.code).toBe('42501');
  });

  it('leaves the chain intact after every attempt', async () => {
    const [r] = await ll.sql(
      `SELECT count(*)::int AS n, bool_and(data <> '{}'::jsonb) AS untouched FROM audit_entries WHERE tenant_id = $1`,
      [tenantId],
    );
    expect(r).toEqual({ n: 3, untouched: true });
    const { rows } = await app.query(`SHOW session_replication_role`);
    expect(rows[0].session_replication_role).toBe('origin');
  });

  it('warns once at start when the application runs as a role that can bypass the triggers', async () => {
    const risk = (output: string[]) =>
      output
        .join('')
        .split('\n')
        .filter((l) => l.includes('tamper risk'));
    // the suite's own API and worker run as the runtime role: no warning
    expect([...ll.apis, ...ll.workers].flatMap((p) => risk(p.output))).toEqual([]);
    // the same API as the owner (a single-user setup) starts, and says why that is a risk
    await ll.startApi({ DATABASE_URL: ll.dbUrl });
    const owner = ll.apis[ll.apis.length - 1];
    const lines = await waitFor('the warning', async () => {
      const found = risk(owner.output);
      return found.length ? found : null;
    });
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]) as { level: number | string; msg: string };
    expect([40, 'warn']).toContain(line.level);
    expect(line.msg).toContain('"postgres"');
    expect(line.msg).toContain('is a superuser');
    // Every append-only table is named, whichever capability made it.
    const owned = /owns ([a-z_, ]+);/.exec(line.msg)?.[1].split(', ');
    expect(owned).toEqual(
      expect.arrayContaining([
        'ai_action_steps',
        'audit_checkpoints',
        'audit_entries',
        'audit_signing_keys',
        'audit_signing_keys_endorsements',
      ]),
    );
    expect(line.msg).toContain('MIGRATION_DATABASE_URL');
  });
});
