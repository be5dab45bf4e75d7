import { randomUUID } from 'node:crypto';
import { Ledgerline, Tenant } from './support/ledgerline';
import { verified, WebhookReceiver } from './support/webhook-receiver';
import {
  Delivery,
  Endpoint,
  LOCAL_DELIVERY,
  WebhooksClient,
  expectSecretFormat,
  expectSecretsNowhere,
  forEvent,
  signatures,
} from './support/webhooks-api';

/** Endpoint CRUD and validation, the secret (shown once, rotated with an overlap, never stored or logged in plain), and another tenant or a weaker key getting nowhere. */
describe('webhooks: endpoints, secrets and tenant isolation', () => {
  let ll: Ledgerline;
  let receiver: WebhookReceiver;
  let acme: Tenant;
  let globex: Tenant;
  let hooks: WebhooksClient;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    ll = await Ledgerline.start({
      env: { ...LOCAL_DELIVERY, WEBHOOK_DISABLE_AFTER_FAILURES: '50' },
    });
    acme = await ll.createTenant('acme');
    globex = await ll.createTenant('globex');
    hooks = new WebhooksClient(ll, acme.apiKey);
  });
  afterAll(async () => {
    await ll?.stop();
    await receiver?.close();
  });

  it('creates, reads, lists, updates and deletes endpoints; the secret is shown only at creation', async () => {
    const res = await ll.request('POST', '/v1/webhooks/endpoints', {
      key: acme.apiKey,
      body: {
        url: receiver.url('/crud'),
        eventTypes: ['invoice.paid', 'invoice.*', '*'],
        description: 'billing system',
        rateLimitPerSecond: 50,
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      url: receiver.url('/crud'),
      eventTypes: ['invoice.paid', 'invoice.*', '*'],
      status: 'enabled',
      secret: expect.any(String),
    });
    const { id, secret } = res.body as Endpoint;
    hooks.secrets.push(secret);
    expectSecretFormat(secret);
    const base64 = secret.replace(/^whsec_/, '');

    const one = await hooks.get(id);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      id,
      url: receiver.url('/crud'),
      eventTypes: ['invoice.paid', 'invoice.*', '*'],
      status: 'enabled',
    });
    expect(one.body).not.toHaveProperty('secret');
    expect(one.text).not.toContain(base64);

    const second = await hooks.create(receiver.url('/crud2'), ['user.*']);
    expect(second.secret).not.toBe(secret);
    const list = await ll.request('GET', '/v1/webhooks/endpoints', { key: acme.apiKey });
    expect(list.status).toBe(200);
    expect(list.body.data.map((e: Endpoint) => e.id)).toEqual(
      expect.arrayContaining([id, second.id]),
    );
    expect(list.body).toHaveProperty('nextCursor');
    for (const e of list.body.data) expect(e).not.toHaveProperty('secret');
    expect(list.text).not.toContain(base64);
    expect(list.text).not.toContain(second.secret.replace(/^whsec_/, ''));
    const page = await ll.request('GET', '/v1/webhooks/endpoints?limit=1', { key: acme.apiKey });
    expect(page.body.data).toHaveLength(1);
    expect(page.body.nextCursor).toEqual(expect.any(String));

    const patched = await ll.request('PATCH', `/v1/webhooks/endpoints/${id}`, {
      key: acme.apiKey,
      body: { eventTypes: ['order.*'], description: 'orders now' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      id,
      eventTypes: ['order.*'],
      description: 'orders now',
      status: 'enabled',
    });
    expect(patched.body).not.toHaveProperty('secret');
    expect((await hooks.get(id)).body.eventTypes).toEqual(['order.*']);

    const bad = [
      { eventTypes: [] },
      { eventTypes: ['Not A Type'] },
      { eventTypes: ['invoice.*.paid'] },
      { status: 'disabled' },
      { url: 'not a url' },
    ];
    for (const body of bad) {
      const r = await ll.request('PATCH', `/v1/webhooks/endpoints/${id}`, {
        key: acme.apiKey,
        body,
      });
      expect({ body, status: r.status, code: r.body?.code }).toEqual({
        body,
        status: 400,
        code: 'validation_failed',
      });
    }
    const unsafe = await ll.request('PATCH', `/v1/webhooks/endpoints/${id}`, {
      key: acme.apiKey,
      body: { url: 'https://169.254.169.254/latest/meta-data' },
    });
    expect(unsafe.status).toBe(422);
    expect(unsafe.body.code).toBe('unsafe_url');
    expect((await hooks.get(id)).body.url).toBe(receiver.url('/crud'));

    const del = await ll.request('DELETE', `/v1/webhooks/endpoints/${id}`, { key: acme.apiKey });
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    expect((await hooks.get(id)).status).toBe(404);
    expect(
      (await ll.request('DELETE', `/v1/webhooks/endpoints/${id}`, { key: acme.apiKey })).status,
    ).toBe(404);
    const after = await ll.request('GET', '/v1/webhooks/endpoints', { key: acme.apiKey });
    expect(after.body.data.map((e: Endpoint) => e.id)).not.toContain(id);
    expect((await hooks.get(randomUUID())).status).toBe(404);
  });

  it('rotates the secret: during the overlap both the old and the new secret verify', async () => {
    const ep = await hooks.create(receiver.url('/rotate'), ['rotate.*']);
    const first = await hooks.publish('rotate.event');
    const [before] = await receiver.waitForCount(1, '/rotate');
    expect(verified(before, ep.secret).data.id).toBe(first.id);

    const rotated = await ll.request('POST', `/v1/webhooks/endpoints/${ep.id}/rotate-secret`, {
      key: acme.apiKey,
    });
    expect(rotated.status).toBe(200);
    expect(Object.keys(rotated.body)).toEqual(['secret']);
    const fresh = rotated.body.secret as string;
    hooks.secrets.push(fresh);
    expectSecretFormat(fresh);
    expect(fresh).not.toBe(ep.secret);
    const view = await hooks.get(ep.id);
    expect(view.text).not.toContain(fresh.replace(/^whsec_/, ''));
    expect(view.text).not.toContain(ep.secret.replace(/^whsec_/, ''));

    const second = await hooks.publish('rotate.event');
    const reqs = await receiver.waitForCount(2, '/rotate');
    const after = forEvent(reqs, second.id)[0];
    const sigs = signatures(after);
    expect(sigs).toHaveLength(2);
    for (const s of sigs) expect(s).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}$/);
    expect(verified(after, fresh).data.id).toBe(second.id);
    expect(verified(after, ep.secret).data.id).toBe(second.id);
    // Each signature on its own: one is the new secret's, the other the old one's.
    const alone = (sig: string) => ({
      ...after,
      headers: { ...after.headers, 'webhook-signature': sig },
    });
    const verifiesWith = (secret: string) =>
      sigs.filter((sig) => {
        try {
          verified(alone(sig), secret);
          return true;
        } catch {
          return false;
        }
      });
    expect(verifiesWith(fresh)).toHaveLength(1);
    expect(verifiesWith(ep.secret)).toHaveLength(1);
    expect(verifiesWith(fresh)[0]).not.toBe(verifiesWith(ep.secret)[0]);
  });

  describe('tenant isolation and scopes', () => {
    let ep: Endpoint;
    let delivery: Delivery;

    beforeAll(async () => {
      ep = await hooks.create(receiver.url('/iso'), ['iso.*'], { description: 'mine' });
      const published = await hooks.publish('iso.event');
      delivery = await hooks.waitDelivery(ep.id, published.id, 'succeeded');
    });

    const routes = (): [string, string, unknown?][] => [
      ['GET', `/v1/webhooks/endpoints/${ep.id}`],
      ['PATCH', `/v1/webhooks/endpoints/${ep.id}`, { description: 'theirs' }],
      ['DELETE', `/v1/webhooks/endpoints/${ep.id}`],
      ['POST', `/v1/webhooks/endpoints/${ep.id}/rotate-secret`],
      ['POST', `/v1/webhooks/endpoints/${ep.id}/enable`],
      ['POST', `/v1/webhooks/endpoints/${ep.id}/recover`, { since: '2020-01-01T00:00:00Z' }],
      ['GET', `/v1/webhooks/endpoints/${ep.id}/deliveries`],
      ['GET', `/v1/webhooks/endpoints/${ep.id}/deliveries?status=succeeded`],
      ['POST', `/v1/webhooks/deliveries/${delivery.id}/retry`],
    ];

    it("answers 404 on every route for another tenant's endpoint or delivery", async () => {
      const before = (await hooks.get(ep.id)).body;
      for (const [method, path, body] of routes()) {
        const res = await ll.request(method, path, { key: globex.apiKey, body });
        expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
      }
      const list = await ll.request('GET', '/v1/webhooks/endpoints', { key: globex.apiKey });
      expect(list.body.data.map((e: Endpoint) => e.id)).not.toContain(ep.id);
      // Nothing changed for the owner: same view, same secret, no extra delivery.
      expect((await hooks.get(ep.id)).body).toEqual(before);
      const published = await hooks.publish('iso.event');
      await hooks.waitDelivery(ep.id, published.id, 'succeeded');
      const reqs = receiver.received('/iso');
      expect(reqs).toHaveLength(2);
      for (const r of reqs) verified(r, ep.secret);
      expect(
        await ll.sql(
          'SELECT count(*)::int AS n FROM events WHERE tenant_id = $1 AND type LIKE $2',
          [globex.tenantId, 'webhook.%'],
        ),
      ).toEqual([{ n: 0 }]);
    });

    it('answers 403 insufficient_scope without webhooks:manage, and 401 without a key', async () => {
      const created = await ll.request('POST', '/v1/api-keys', {
        key: acme.apiKey,
        body: { name: 'publisher', scopes: ['events:write', 'events:read'] },
      });
      expect(created.status).toBe(201);
      const weak = created.body.key as string;
      const all: [string, string, unknown?][] = [
        ...routes(),
        ['GET', '/v1/webhooks/endpoints'],
        ['POST', '/v1/webhooks/endpoints', { url: receiver.url('/x'), eventTypes: ['*'] }],
      ];
      for (const [method, path, body] of all) {
        const res = await ll.request(method, path, { key: weak, body });
        expect({ method, path, status: res.status, code: res.body?.code }).toEqual({
          method,
          path,
          status: 403,
          code: 'insufficient_scope',
        });
        const anonymous = await ll.request(method, path, { body });
        expect({ method, path, status: anonymous.status }).toEqual({ method, path, status: 401 });
      }
      expect((await hooks.get(ep.id)).body.description).toBe('mine');
    });
  });

  it('keeps every plaintext secret out of the database and the logs', async () => {
    const rows = await ll.sql('SELECT secret_sealed, secret_key_id FROM webhook_endpoints');
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const r of rows) expect(r.secret_sealed).not.toMatch(/^whsec_/);
    const probe = await hooks.create(receiver.url('/secret-probe'), ['probe.*']);
    await hooks.rotate(probe.id);
    await hooks.publish('probe.event');
    await receiver.waitForCount(1, '/secret-probe');
    // Every secret this suite was shown, current or rotated away.
    expect(hooks.secrets.length).toBeGreaterThanOrEqual(7);
    await expectSecretsNowhere(ll, hooks.secrets);
  });
});
