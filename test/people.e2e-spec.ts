import { Ledgerline, Tenant, waitFor } from './support/ledgerline';
import { SmtpSink } from './support/message-sinks';
import {
  createUser,
  login,
  Person,
  seedUser,
  SESSION_COOKIE,
  withSession,
} from './support/console-session';

/** People and sessions over HTTP: sign-in, lockout, CSRF, roles on the API, sign-out. */
describe('people and sessions', () => {
  let ll: Ledgerline;
  let t: Tenant;
  let approver: Person;
  let viewer: Person;
  let admin: Person;
  let smtp: SmtpSink;

  beforeAll(async () => {
    smtp = await new SmtpSink().start();
    ll = await Ledgerline.start({
      workers: 1,
      env: { SMTP_URL: smtp.url, PUBLIC_BASE_URL: 'https://ledgerline.example.com' },
    });
    t = await ll.createTenant('people');
    approver = await createUser(ll, t.tenantId, 'approver');
    viewer = await seedUser(ll, t.tenantId, 'viewer');
    admin = await seedUser(ll, t.tenantId, 'admin');
  });
  afterAll(async () => {
    await ll?.stop();
    await smtp?.stop();
  });

  const submit = async (type = 'crm.note.add', risk = 'medium') =>
    (
      await ll.request('POST', '/v1/ai-actions', {
        key: t.apiKey,
        body: {
          type,
          initiator: 'autonomous',
          agent: { id: 'bot' },
          input: { n: 1 },
          proposedRisk: risk,
        },
      })
    ).body;

  it('user create prints userId, email, role and a generated password', async () => {
    expect(approver).toEqual({
      userId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      email: expect.stringContaining('@example.com'),
      role: 'approver',
      password: expect.stringMatching(/^.{12,}$/),
    });
    const [row] = await ll.sql(`SELECT password_hash FROM users WHERE id = $1`, [approver.userId]);
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    await expect(
      ll.cli(
        'user',
        'create',
        '--tenant',
        t.tenantId,
        '--email',
        approver.email,
        '--role',
        'viewer',
      ),
    ).rejects.toThrow();
    await expect(
      ll.cli(
        'user',
        'create',
        '--tenant',
        t.tenantId,
        '--email',
        'x@example.com',
        '--role',
        'root',
      ),
    ).rejects.toThrow();
  });

  it('signs in with an HttpOnly, Secure, SameSite=Strict cookie holding a 32-byte id, stored hashed', async () => {
    const res = await fetch(`${ll.baseUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: approver.email.toUpperCase(), password: approver.password }),
    });
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43};`));
    for (const attr of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/']) {
      expect(cookie).toContain(attr);
    }
    const id = cookie.split(';')[0].split('=')[1];
    expect(Buffer.from(id, 'base64url')).toHaveLength(32);
    const rows = await ll.sql(`SELECT encode(id_hash, 'hex') AS h FROM sessions`);
    expect(rows.some((r) => r.h.includes(Buffer.from(id).toString('hex')))).toBe(false);
    expect(rows.length).toBeGreaterThan(0);
  });

  it('refuses a sign-in posted from another site (login CSRF)', async () => {
    const tries: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
    ];
    for (const headers of tries) {
      const res = await fetch(`${ll.baseUrl}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({
          email: approver.email,
          password: approver.password,
        }).toString(),
        redirect: 'manual',
      });
      expect(res.status).toBe(403);
      expect(res.headers.get('set-cookie')).toBeNull();
    }
  });

  it('answers an unknown email and a wrong password alike, in similar time', async () => {
    const attempt = async (email: string) => {
      const started = performance.now();
      const res = await fetch(`${ll.baseUrl}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: 'not-the-password-at-all' }),
      });
      return { status: res.status, body: await res.json(), ms: performance.now() - started };
    };
    const wrong = await attempt(viewer.email);
    const unknown = await attempt('nobody-here@example.com');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    // Both hash once (the unknown one against a dummy): neither answers in a fraction of the other.
    expect(unknown.ms).toBeGreaterThan(wrong.ms / 4);
    expect(wrong.ms).toBeGreaterThan(unknown.ms / 4);
  });

  it('locks an account after five failures in 15 minutes, even for the right password', async () => {
    const member = await seedUser(ll, t.tenantId, 'member');
    const post = (password: string) =>
      ll.request('POST', '/auth/login', { body: { email: member.email, password } });
    for (let i = 0; i < 4; i++) expect((await post('wrong-password-123')).status).toBe(401);
    const fifth = await post('wrong-password-123');
    expect(fifth.status).toBe(429);
    expect(fifth.body.code).toBe('account_locked');
    expect(Number(fifth.headers.get('retry-after'))).toBeGreaterThan(800);
    const right = await post(member.password);
    expect(right.status).toBe(429);
    expect(right.body.code).toBe('account_locked');
    // Failures are recorded just after their answer (a known email answers no slower).
    const events = await waitFor(
      'the failed sign-ins recorded',
      async () => {
        const rows = await ll.sql(
          `SELECT type, data FROM events WHERE tenant_id = $1 AND type LIKE 'console.%' AND subject = $2`,
          [t.tenantId, `user/${member.userId}`],
        );
        return rows.length >= 6 ? rows : undefined;
      },
      5000,
    );
    const types = events.map((e) => e.type);
    expect(types.filter((x) => x === 'console.login_failed')).toHaveLength(5);
    expect(types).toContain('console.locked');
    expect(JSON.stringify(events)).not.toContain(member.email);
  });

  it('refuses a cookie-authenticated change without the CSRF token', async () => {
    const s = await login(ll, approver.email, approver.password);
    const action = await submit();
    const path = `/v1/ai-actions/${action.id}/decisions`;
    const body = { decision: 'approve', reason: 'ok', inputHash: action.inputHash };
    const bare = await withSession(ll, s, 'POST', path, { body, csrf: false });
    expect(bare.status).toBe(403);
    const forged = await fetch(`${ll.baseUrl}${path}`, {
      method: 'POST',
      headers: {
        cookie: s.cookie,
        'content-type': 'application/json',
        'x-csrf-token': 'x'.repeat(43),
      },
      body: JSON.stringify(body),
    });
    expect(forged.status).toBe(403);
    const ok = await withSession(ll, s, 'POST', path, { body });
    expect(ok.status).toBe(200);
    // An unknown type is high risk: one of two approvals, recorded as the user's.
    expect(ok.body.status).toBe('pending_approval');
    expect(ok.body.approvals).toEqual([{ type: 'user', id: approver.userId }]);
  });

  it('takes form bodies only on the console and /auth: another route answers 415 problem+json', async () => {
    const res = await fetch(`${ll.baseUrl}/v1/ai-actions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Bearer ${t.apiKey}`,
      },
      body: 'type=crm.note.add&initiator=autonomous',
    });
    expect(res.status).toBe(415);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect((await res.json()).code).toBe('unsupported_media_type');
  });

  it("lets a session read the queue with its role's scopes and refuses a viewer's decision", async () => {
    const action = await submit('crm.deal.close');
    const v = await login(ll, viewer.email, viewer.password);
    const decided = await withSession(ll, v, 'POST', `/v1/ai-actions/${action.id}/decisions`, {
      body: { decision: 'approve', reason: 'ok', inputHash: action.inputHash },
    });
    expect(decided.status).toBe(403);
    expect(decided.body.code).toBe('insufficient_scope');
    const a = await login(ll, approver.email, approver.password);
    const list = await withSession(ll, a, 'GET', '/v1/ai-actions?status=pending_approval');
    expect(list.status).toBe(200);
    expect(list.body.data.map((x: { id: string }) => x.id)).toContain(action.id);
  });

  it('never lets a session (even an admin) manage API keys', async () => {
    const s = await login(ll, admin.email, admin.password);
    const created = await withSession(ll, s, 'POST', '/v1/api-keys', {
      body: { name: 'from-a-cookie', scopes: ['admin'] },
    });
    expect(created.status).toBe(403);
    expect(created.body.code).toBe('insufficient_scope');
  });

  it('signs out: the session is gone and the cookie cleared; a new login rotates the id', async () => {
    const first = await login(ll, approver.email, approver.password);
    const second = await login(ll, approver.email, approver.password);
    expect(second.cookie).not.toBe(first.cookie);
    const noCsrf = await withSession(ll, second, 'POST', '/auth/logout', { csrf: false });
    expect(noCsrf.status).toBe(403);
    const out = await withSession(ll, second, 'POST', '/auth/logout');
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
    const after = await withSession(ll, second, 'GET', '/v1/ai-actions');
    expect(after.status).toBe(401);
    const types = (
      await ll.sql(
        `SELECT DISTINCT type FROM events WHERE tenant_id = $1 AND type LIKE 'console.%'`,
        [t.tenantId],
      )
    ).map((r) => r.type);
    expect(types).toEqual(expect.arrayContaining(['console.login', 'console.logout']));
  });

  it("emails the tenant's approvers (not viewers) a link to a waiting action, once each", async () => {
    const other = await ll.createTenant('elsewhere');
    await seedUser(ll, other.tenantId, 'approver');
    const action = await submit('crm.invoice.void');
    const link = `https://ledgerline.example.com/console/actions/${action.id}`;
    const toApprover = await waitFor(
      'the approver notice',
      async () => smtp.mails.find((m) => m.to.includes(approver.email) && m.text.includes(link)),
      15000,
    );
    expect(toApprover.text).toContain('Subject: Approval needed: crm.invoice.void (high risk)');
    const about = () => smtp.mails.filter((m) => m.text.includes(action.id));
    await waitFor('every approver notice', async () => about().length >= 2, 5000);
    // The mail reaches the sink a moment before its row is marked sent.
    const rows = await waitFor(
      'every notice marked sent',
      async () => {
        const found = await ll.sql(
          `SELECT user_id, sent_at FROM approver_notices WHERE action_id = $1`,
          [action.id],
        );
        return found.length >= 2 && found.every((r) => r.sent_at !== null) ? found : undefined;
      },
      5000,
    );
    // The tenant's deciders: the approver and the admin (owners and admins decide too).
    expect(rows.map((r) => r.user_id).sort()).toEqual([approver.userId, admin.userId].sort());
    expect(rows.every((r) => r.sent_at !== null)).toBe(true);
    expect(about().some((m) => m.to.includes(viewer.email))).toBe(false);
    // A replay of the stream (cursor moved back) adds no notice and sends nothing twice.
    const before = smtp.mails.length;
    await ll.sql(`UPDATE stream_cursors SET position = 0 WHERE consumer = 'approver-notice'`);
    await submit('crm.note.add');
    await waitFor(
      'the cursor caught up',
      async () =>
        (
          await ll.sql(
            `SELECT 1 FROM stream_cursors c JOIN tenant_streams s USING (tenant_id)
             WHERE c.consumer = 'approver-notice' AND c.tenant_id = $1 AND c.position = s.position`,
            [t.tenantId],
          )
        ).length > 0,
      15000,
    );
    expect(about()).toHaveLength(2);
    expect(smtp.mails.length - before).toBeLessThanOrEqual(2);
  });
});
