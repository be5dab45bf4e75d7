import { Ledgerline, Tenant, event } from './support/ledgerline';

describe('API keys, scopes and tenant isolation', () => {
  let ll: Ledgerline;
  let acme: Tenant;
  let globex: Tenant;

  beforeAll(async () => {
    ll = await Ledgerline.start({ workers: 0 });
    acme = await ll.createTenant('acme');
    globex = await ll.createTenant('globex');
  });
  afterAll(() => ll.stop());

  it('prints the tenant id and admin key from the CLI, and the key never lands in the table', async () => {
    expect(acme.tenantId).toMatch(/^[0-9a-f-]{36}$/);
    // The secret is base64url, so it may hold (or start with) '_': cut it by position.
    const KEY = /^ll_[A-Za-z0-9]{12}_([A-Za-z0-9_-]{43})$/;
    expect(acme.apiKey).toMatch(KEY);
    const secret = KEY.exec(acme.apiKey)![1];
    const rows = await ll.sql('SELECT prefix, key_hash::text AS h, scopes FROM api_keys');
    expect(JSON.stringify(rows)).not.toContain(acme.apiKey);
    expect(JSON.stringify(rows)).not.toContain(secret);
  });

  it('accepts Bearer and X-API-Key; refuses missing and wrong keys with 401', async () => {
    const body = event();
    expect((await ll.request('POST', '/v1/events', { key: acme.apiKey, body })).status).toBe(202);
    const viaHeader = await ll.request('POST', '/v1/events', {
      headers: { 'x-api-key': acme.apiKey },
      body,
    });
    expect(viaHeader.status).toBe(202);
    const none = await ll.request('POST', '/v1/events', { body });
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toContain('application/problem+json');
    expect(none.body.code).toBe('unauthorized');
    const wrong = acme.apiKey.slice(0, -2) + (acme.apiKey.endsWith('AA') ? 'BB' : 'AA');
    expect((await ll.request('POST', '/v1/events', { key: wrong, body })).status).toBe(401);
    expect((await ll.request('POST', '/v1/events', { key: 'garbage', body })).status).toBe(401);
    const basic = await ll.request('POST', '/v1/events', {
      headers: { authorization: 'Basic abc' },
      body,
    });
    expect(basic.status).toBe(401);
  });

  it('answers 403 tenant_mismatch when X-Tenant-Id is another tenant', async () => {
    const res = await ll.request('POST', '/v1/events', {
      key: acme.apiKey,
      body: event(),
      headers: { 'x-tenant-id': globex.tenantId },
    });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('tenant_mismatch');
    const same = await ll.request('POST', '/v1/events', {
      key: acme.apiKey,
      body: event(),
      headers: { 'x-tenant-id': acme.tenantId },
    });
    expect(same.status).toBe(202);
  });

  it('creates scoped keys shown once, enforces scopes, and revokes', async () => {
    const created = await ll.request('POST', '/v1/api-keys', {
      key: acme.apiKey,
      body: { name: 'reader', scopes: ['events:read'] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      key: expect.stringMatching(/^ll_/),
      scopes: ['events:read'],
    });
    const reader = created.body.key as string;

    const denied = await ll.request('POST', '/v1/events', { key: reader, body: event() });
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('insufficient_scope');
    const notAdmin = await ll.request('POST', '/v1/api-keys', {
      key: reader,
      body: { name: 'x', scopes: ['admin'] },
    });
    expect(notAdmin.status).toBe(403);

    const published = await ll.request('POST', '/v1/events', { key: acme.apiKey, body: event() });
    expect(
      (await ll.request('GET', `/v1/events/${published.body.id}`, { key: reader })).status,
    ).toBe(200);

    const revoked = await ll.request('DELETE', `/v1/api-keys/${created.body.id}`, {
      key: acme.apiKey,
    });
    expect(revoked.status).toBe(204);
    expect(
      (await ll.request('GET', `/v1/events/${published.body.id}`, { key: reader })).status,
    ).toBe(401);
    expect(
      (await ll.request('DELETE', `/v1/api-keys/${created.body.id}`, { key: acme.apiKey })).status,
    ).toBe(404);

    const types = await ll.sql<{ type: string }>(
      `SELECT type FROM events WHERE tenant_id = $1 AND type LIKE 'api_key.%' ORDER BY position`,
      [acme.tenantId],
    );
    expect(types.map((t) => t.type)).toEqual([
      'api_key.created',
      'api_key.created',
      'api_key.revoked',
    ]);
  });

  it('rejects unknown scopes and fields', async () => {
    const bad = await ll.request('POST', '/v1/api-keys', {
      key: acme.apiKey,
      body: { name: 'x', scopes: ['root'] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('validation_failed');
    expect(bad.body.errors[0].field).toBe('scopes');
    const extra = await ll.request('POST', '/v1/api-keys', {
      key: acme.apiKey,
      body: { name: 'x', scopes: ['admin'], tenantId: globex.tenantId },
    });
    expect(extra.status).toBe(400);
  });

  it("answers another tenant's resources with 404", async () => {
    const mine = await ll.request('POST', '/v1/events', { key: acme.apiKey, body: event() });
    const theirs = await ll.request('GET', `/v1/events/${mine.body.id}`, { key: globex.apiKey });
    expect(theirs.status).toBe(404);
    const key = await ll.request('POST', '/v1/api-keys', {
      key: acme.apiKey,
      body: { name: 'k', scopes: ['admin'] },
    });
    const del = await ll.request('DELETE', `/v1/api-keys/${key.body.id}`, { key: globex.apiKey });
    expect(del.status).toBe(404);
    expect(
      (await ll.request('POST', '/v1/events', { key: key.body.key, body: event() })).status,
    ).toBe(202);
  });

  it('serves health, readiness, docs and guarded metrics with security headers', async () => {
    const ready = await ll.request('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ postgres: 'ok', redis: 'ok', migrations: 'ok' });
    expect((await ll.request('GET', '/livez')).status).toBe(200);
    expect((await ll.request('GET', '/healthz')).status).toBe(200);
    expect((await ll.request('GET', '/metrics')).status).toBe(401);
    const metrics = await ll.request('GET', '/metrics', { key: acme.apiKey });
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('ledgerline_');
    const docs = await ll.request('GET', '/docs');
    expect(docs.status).toBe(200);
    expect(ready.headers.get('strict-transport-security')).toContain('max-age');
    expect(ready.headers.get('x-frame-options')).toBe('DENY');
    expect(ready.headers.get('x-content-type-options')).toBe('nosniff');
    expect(ready.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(ready.headers.get('referrer-policy')).toBeTruthy();
    // Error answers carry them too: an unknown route and a body the parser refuses.
    for (const answer of [
      await ll.request('GET', '/v1/nowhere'),
      await ll.request('POST', '/v1/events', { key: acme.apiKey, raw: '{"broken' }),
    ]) {
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.headers.get('x-frame-options')).toBe('DENY');
      expect(answer.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    }
  });
});
