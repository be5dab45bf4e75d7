import { Client } from 'pg';

/**
 * The tables the application may only append to: those whose UPDATEs a trigger refuses with
 * audit_entries_immutable() (tgtype bit 16: UPDATE; audit_chain_heads uses the function for
 * TRUNCATE only, its rows move forward). The catalog is the one list, so a table a later
 * migration protects with that trigger is covered by the grants and the start check at once.
 */
export const APPEND_ONLY_TABLES_SQL = `
  SELECT DISTINCT t.tgrelid AS oid FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
  WHERE p.proname = 'audit_entries_immutable' AND NOT t.tgisinternal AND t.tgtype & 16 = 16`;

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

async function withClient<T>(url: string, work: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, application_name: 'ledgerline-migrate' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The role a URL logs in as (its user name, or libpq's default when it has none). */
function roleOf(url: string): string | null {
  const user = new URL(url).username;
  return user ? decodeURIComponent(user) : null;
}

/**
 * Creates the runtime role (LOGIN, with the URL's password if it has one, nothing else) when it
 * is missing; an existing role is left as it is. Roles are cluster-wide and several migrators may
 * race: a role created meanwhile is fine.
 */
export async function ensureRuntimeRole(migrationUrl: string, runtimeUrl: string): Promise<void> {
  const role = roleOf(runtimeUrl);
  if (!role) throw new Error('DATABASE_URL names no user: cannot create the runtime role');
  const password = decodeURIComponent(new URL(runtimeUrl).password) || null;
  await withClient(migrationUrl, async (c) => {
    const found = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
    if (found.rowCount) return;
    const { rows } = await c.query<{ sql: string }>(
      `SELECT format('CREATE ROLE %I LOGIN', $1::text) ||
              coalesce(format(' PASSWORD %L', $2::text), '') AS sql`,
      [role, password],
    );
    await c.query(rows[0].sql).catch((e: { code?: string }) => {
      if (e.code !== '42710' && e.code !== '23505') throw e; // created meanwhile
    });
  });
}

/**
 * Run as the schema owner after every migration: gives DATABASE_URL's role (when it is another
 * role than the migrator) full DML on ordinary tables, only SELECT and INSERT on append-only ones,
 * read-only access to the migrations table, and sequences. Never TRUNCATE, TRIGGER or REFERENCES,
 * never ownership: without them the role can neither disable the triggers nor rewrite rows.
 * Returns the role granted to, or null for a single-user setup.
 */
export async function grantRuntimeRole(
  migrationUrl: string,
  runtimeUrl: string,
): Promise<string | null> {
  const runtime =
    roleOf(runtimeUrl) ??
    (await withClient(runtimeUrl, async (c) => {
      const { rows } = await c.query<{ role: string }>('SELECT current_user AS role');
      return rows[0].role;
    }));
  return withClient(migrationUrl, async (c) => {
    const { rows } = await c.query<{ role: string; schema: string }>(
      'SELECT current_user AS role, current_schema() AS schema',
    );
    const { role: owner, schema } = rows[0];
    if (owner === runtime) return null;
    const r = ident(runtime);
    const s = ident(schema);
    const appendOnly = await c.query<{ name: string }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid IN (${APPEND_ONLY_TABLES_SQL})`,
    );
    await c.query('BEGIN');
    try {
      await c.query(`GRANT USAGE ON SCHEMA ${s} TO ${r}`);
      await c.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${r}`);
      await c.query(`REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA ${s} FROM ${r}`);
      await c.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${s} TO ${r}`);
      const migrations = await c.query(`SELECT to_regclass('migrations') AS t`);
      if (migrations.rows[0].t) {
        await c.query(`REVOKE INSERT, UPDATE, DELETE ON migrations FROM ${r}`);
      }
      for (const { name } of appendOnly.rows) {
        await c.query(`REVOKE UPDATE, DELETE ON ${name} FROM ${r}`);
      }
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    return runtime;
  });
}

export interface BypassFinding {
  role: string;
  reasons: string[];
}

/** Runs as the application's own role: in which ways could it get past the append-only triggers? */
export const RUNTIME_ROLE_CHECK_SQL = `
  WITH me AS (SELECT rolsuper, rolbypassrls, rolreplication FROM pg_roles WHERE rolname = current_user),
       t AS (SELECT c.oid, c.relname, c.relowner FROM pg_class c WHERE c.oid IN (${APPEND_ONLY_TABLES_SQL}))
  SELECT current_user AS role,
         (SELECT rolsuper FROM me) AS superuser,
         (SELECT rolbypassrls OR rolreplication FROM me) AS bypass_or_replication,
         coalesce((SELECT array_agg(relname::text ORDER BY relname) FROM t WHERE pg_has_role(current_user, relowner, 'USAGE')), '{}') AS owns,
         coalesce((SELECT array_agg(relname::text ORDER BY relname) FROM t
                   WHERE has_table_privilege(oid, 'UPDATE') OR has_table_privilege(oid, 'DELETE')
                      OR has_table_privilege(oid, 'TRUNCATE')), '{}') AS writable`;

export function bypassFinding(row: {
  role: string;
  superuser: boolean;
  bypass_or_replication: boolean;
  owns: string[];
  writable: string[];
}): BypassFinding | null {
  const reasons: string[] = [];
  if (row.superuser) reasons.push('is a superuser');
  if (row.bypass_or_replication) reasons.push('has BYPASSRLS or REPLICATION');
  if (row.owns.length) reasons.push(`owns ${row.owns.join(', ')}`);
  if (row.writable.length) reasons.push(`may UPDATE/DELETE/TRUNCATE ${row.writable.join(', ')}`);
  return reasons.length ? { role: row.role, reasons } : null;
}
