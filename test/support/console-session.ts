import { Ledgerline } from './ledgerline';

export interface Person {
  userId: string;
  email: string;
  role: string;
  password: string;
}

export const SESSION_COOKIE = '__Host-ledgerline_session';

/** A user made with the CLI, as an operator would. */
export async function createUser(
  ll: Ledgerline,
  tenantId: string,
  role: string,
  email = `${role}-${Math.random().toString(36).slice(2, 8)}@example.com`,
): Promise<Person> {
  return JSON.parse(
    await ll.cli('user', 'create', '--tenant', tenantId, '--email', email, '--role', role),
  ) as Person;
}

/** A signed-in session over plain HTTP: its cookie and CSRF token. */
export interface Session {
  cookie: string;
  csrf: string;
  body: Record<string, unknown>;
}

export async function login(ll: Ledgerline, email: string, password: string): Promise<Session> {
  const res = await fetch(`${ll.baseUrl}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`login ${res.status}: ${JSON.stringify(body)}`);
  const set = res.headers.get('set-cookie') ?? '';
  const cookie = set.split(';')[0];
  return { cookie, csrf: String(body.csrfToken), body };
}

/** A request carrying the session cookie (and the CSRF token when `csrf` is not false). */
export async function withSession(
  ll: Ledgerline,
  s: Session,
  method: string,
  path: string,
  opts: { body?: unknown; form?: Record<string, string>; csrf?: boolean } = {},
) {
  const headers: Record<string, string> = { cookie: s.cookie };
  if (opts.csrf !== false && !opts.form) headers['x-csrf-token'] = s.csrf;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  if (opts.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    const fields = { ...opts.form };
    if (opts.csrf !== false) fields._csrf = s.csrf;
    body = new URLSearchParams(fields).toString();
  }
  const res = await fetch(`${ll.baseUrl}${path}`, { method, headers, body, redirect: 'manual' });
  const text = await res.text();
  let parsed: any;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

let seededHash: Promise<string> | undefined;
const SEEDED_PASSWORD = 'seeded-password-for-tests';

/**
 * A user written straight into the suite's database (an argon2id hash made here once): for
 * suites that need several people and are not testing the CLI, whose every call boots the app.
 */
export async function seedUser(ll: Ledgerline, tenantId: string, role: string): Promise<Person> {
  const argon2 = await import('argon2');
  seededHash ??= argon2.hash(SEEDED_PASSWORD, {
    type: argon2.argon2id,
    memoryCost: 19456,
    timeCost: 2,
    parallelism: 1,
  });
  const userId = crypto.randomUUID();
  const email = `${role}-${userId.slice(0, 8)}@example.com`;
  await ll.sql(
    `INSERT INTO users (tenant_id, id, email, role, password_hash) VALUES ($1, $2, $3, $4, $5)`,
    [tenantId, userId, email, role, await seededHash],
  );
  return { userId, email, role, password: SEEDED_PASSWORD };
}
