import { randomBytes } from 'node:crypto';
import { SecretBox } from '@app/security';
import { Ledgerline, Tenant, waitFor } from './support/ledgerline';
import { payloadOf, verified, WebhookReceiver } from './support/webhook-receiver';
import {
  Endpoint,
  LOCAL_DELIVERY,
  WebhooksClient,
  expectSecretsNowhere,
  forEvent,
  signatures,
} from './support/webhooks-api';

/**
 * An endpoint's life after creation: disabled when it keeps failing (the others are told), what
 * it is owed waits and enable or recover sends it; its secret sealed bound to it, rotated without
 * overlap here, rekeyed under a new master key; every change an audited event.
 */
describe('webhooks: auto-disable, enable, recover, sealed secrets, rekey and the audit trail', () => {
  const masterKey = randomBytes(32).toString('base64');
  let ll: Ledgerline;
  let receiver: WebhookReceiver;
  let tenant: Tenant;
  let hooks: WebhooksClient;
  let watcher: Endpoint;

  const create = (path: string, types: string[]) => hooks.create(receiver.url(path), types);
  const status = async (id: string) => (await hooks.get(id)).body;
  const post = (path: string, body?: unknown) =>
    ll.request('POST', path, { key: tenant.apiKey, body });
  const watched = (type: string, endpointId: string) =>
    receiver
      .received('/watch')
      .filter(
        (r) => payloadOf(r).type === type && payloadOf(r).data.data.endpointId === endpointId,
      );

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    ll = await Ledgerline.start({
      env: {
        ...LOCAL_DELIVERY,
        WEBHOOK_DISABLE_AFTER_FAILURES: '3',
        WEBHOOK_SECRET_OVERLAP_SECONDS: '0',
        LEDGERLINE_MASTER_KEY: masterKey,
      },
    });
    tenant = await ll.createTenant('lifecycle');
    hooks = new WebhooksClient(ll, tenant.apiKey);
    watcher = await create('/watch', ['webhook.*']);
  });
  afterAll(async () => {
    await ll?.stop();
    await receiver?.close();
  });

  it('disables an endpoint after consecutive failures, tells the other endpoints, and enable sends what waited', async () => {
    receiver.on('/bad', { status: 500 });
    const bad = await create('/bad', ['invoice.*']);
    const published = await hooks.publish('invoice.paid');

    const disabled = await waitFor('endpoint to be disabled', async () => {
      const view = await status(bad.id);
      return view.status === 'disabled' && view;
    });
    expect(disabled.disabledReason).toEqual(expect.any(String));
    expect(disabled.disabledReason.length).toBeGreaterThan(0);
    // WEBHOOK_DISABLE_AFTER_FAILURES=3: the third failed attempt in a row disables it.
    const tries = receiver.received('/bad');
    expect(tries.length).toBeGreaterThanOrEqual(3);
    expect(new Set(tries.map((r) => r.headers['webhook-id'])).size).toBe(1);

    // The other endpoint, subscribed to webhook.*, is told (signed like any delivery).
    const [notice] = await waitFor('webhook.endpoint.disabled to be delivered', async () => {
      const got = watched('webhook.endpoint.disabled', bad.id);
      return got.length > 0 && got;
    });
    const payload = verified(notice, watcher.secret);
    expect(payload.type).toBe('webhook.endpoint.disabled');
    expect(payload.data.type).toBe('webhook.endpoint.disabled');
    expect(payload.data.data.endpointId).toBe(bad.id);

    // What was still owed waits, and counts as pending on the event.
    const waiting = await hooks.waitDelivery(bad.id, published.id, 'waiting');
    expect(waiting.attempts).toHaveLength(3);
    expect(waiting.nextAttemptAt).toBeNull();
    expect(await hooks.deliveryCounts(published.id)).toEqual({
      pending: 1,
      succeeded: 0,
      failed: 0,
    });
    // A manual retry of a delivery of a disabled endpoint waits too.
    const retry = await post(`/v1/webhooks/deliveries/${waiting.id}/retry`);
    expect(retry.status).toBe(202);
    expect(retry.body.status).toBe('waiting');
    expect((await hooks.deliveries(bad.id, 'waiting')).map((d) => d.id)).toContain(waiting.id);

    receiver.on('/bad', { status: 200 });
    const enabled = await post(`/v1/webhooks/endpoints/${bad.id}/enable`);
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ id: bad.id, status: 'enabled', disabledReason: null });
    const sent = await hooks.waitDelivery(bad.id, published.id, 'succeeded');
    expect(sent.id).toBe(waiting.id);
    const all = receiver.received('/bad');
    expect(all.length).toBeGreaterThanOrEqual(4);
    expect(new Set(all.map((r) => r.headers['webhook-id']))).toEqual(new Set([waiting.id]));
    expect(verified(all[all.length - 1], bad.secret).data.id).toBe(published.id);
    expect((await status(bad.id)).status).toBe('enabled');
    await waitFor(
      'webhook.endpoint.enabled to be delivered',
      async () => watched('webhook.endpoint.enabled', bad.id).length > 0,
    );
  });

  it('disables an endpoint at once when it answers 410 Gone', async () => {
    receiver.on('/gone', { status: 410 });
    const gone = await create('/gone', ['gone.*']);
    const published = await hooks.publish('gone.event');
    const view = await waitFor('endpoint to be disabled', async () => {
      const v = await status(gone.id);
      return v.status === 'disabled' && v;
    });
    expect(view.disabledReason).toEqual(expect.any(String));
    expect(receiver.received('/gone')).toHaveLength(1);
    const waiting = await hooks.waitDelivery(gone.id, published.id, 'waiting');
    expect(waiting.attempts).toEqual([expect.objectContaining({ statusCode: 410 })]);
  });

  it('events matching a disabled endpoint get waiting deliveries; enable sends them all', async () => {
    const old = await hooks.publish('order.created');
    await new Promise((r) => setTimeout(r, 5));
    const since = new Date(Date.parse(old.receivedAt) + 1).toISOString();
    receiver.on('/rec', { status: 500 });
    const rec = await create('/rec', ['order.*']);
    // A healthy endpoint with the same subscription shows when fan-out is done.
    const witness = await create('/rec-witness', ['order.*']);
    const first = await hooks.publish('order.created');
    await waitFor(
      'endpoint to be disabled',
      async () => (await status(rec.id)).status === 'disabled',
    );
    await hooks.waitDelivery(rec.id, first.id, 'waiting');
    const triedBefore = receiver.received('/rec').length;
    expect(triedBefore).toBeGreaterThanOrEqual(3);

    // Published while it is disabled: owed, so created waiting (SPEC section 5), never sent.
    const second = await hooks.publish('order.paid');
    const third = await hooks.publish('order.shipped');
    const unrelated = await hooks.publish('invoice.voided');
    for (const e of [second, third]) await hooks.waitDelivery(witness.id, e.id, 'succeeded');
    const owned = async () =>
      (
        await ll.sql<{ event_id: string; status: string; attempt_count: number }>(
          'SELECT event_id, status, attempt_count FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY event_id',
          [rec.id],
        )
      ).map((r) => [r.event_id, r.status]);
    expect(await owned()).toEqual(
      [first.id, second.id, third.id].sort().map((id) => [id, 'waiting']),
    );
    for (const e of [second, third]) {
      const waiting = await hooks.waitDelivery(rec.id, e.id, 'waiting');
      expect(waiting.attempts).toEqual([]);
      expect(waiting.nextAttemptAt).toBeNull();
      expect(await hooks.deliveryCounts(e.id)).toEqual({ pending: 1, succeeded: 1, failed: 0 });
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.received('/rec')).toHaveLength(triedBefore);

    // Recover does not re-enable and has nothing to create: it re-sends what waits, later.
    receiver.on('/rec', { status: 200 });
    const res = await post(`/v1/webhooks/endpoints/${rec.id}/recover`, { since });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ endpointId: rec.id, resent: 3, created: 0 });
    expect((await status(rec.id)).status).toBe('disabled');
    expect(await hooks.deliveries(rec.id, 'waiting')).toHaveLength(3);
    expect(receiver.received('/rec')).toHaveLength(triedBefore);

    // Enable sends everything that waited, each once, signed.
    expect((await post(`/v1/webhooks/endpoints/${rec.id}/enable`)).status).toBe(200);
    for (const e of [first, second, third]) await hooks.waitDelivery(rec.id, e.id, 'succeeded');
    const got = receiver.received('/rec').slice(triedBefore);
    for (const r of got) verified(r, rec.secret);
    expect(got.map((r) => payloadOf(r).data.id).sort()).toEqual(
      [first.id, second.id, third.id].sort(),
    );
    expect(forEvent(receiver.received('/rec'), old.id)).toHaveLength(0);
    expect(forEvent(receiver.received('/rec'), unrelated.id)).toHaveLength(0);
    expect(await hooks.deliveries(rec.id, 'waiting')).toHaveLength(0);

    // And once enabled, recover sends at once (nothing failed now: it re-creates nothing).
    const again = await post(`/v1/webhooks/endpoints/${rec.id}/recover`, { since });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ resent: 0, created: 0 });
  });

  it('a tenant whose only endpoint is disabled keeps its events owed: they wait, then are sent', async () => {
    const lone = await ll.createTenant('lone');
    const loneHooks = new WebhooksClient(ll, lone.apiKey);
    receiver.on('/lone', { status: 410 });
    const ep = await loneHooks.create(receiver.url('/lone'), ['lone.*']);
    const gone = await loneHooks.publish('lone.first');
    await waitFor(
      'the only endpoint to be disabled',
      async () => (await loneHooks.get(ep.id)).body.status === 'disabled',
    );
    await loneHooks.waitDelivery(ep.id, gone.id, 'waiting');
    // Every endpoint of the tenant is disabled: fan-out must still create the deliveries.
    const owed = [await loneHooks.publish('lone.second'), await loneHooks.publish('lone.third')];
    for (const e of owed) await loneHooks.waitDelivery(ep.id, e.id, 'waiting');
    expect(receiver.received('/lone')).toHaveLength(1);

    receiver.on('/lone', { status: 204 });
    const enabled = await ll.request('POST', `/v1/webhooks/endpoints/${ep.id}/enable`, {
      key: lone.apiKey,
    });
    expect(enabled.status).toBe(200);
    for (const e of [gone, ...owed]) await loneHooks.waitDelivery(ep.id, e.id, 'succeeded');
    const ids = receiver
      .received('/lone')
      .slice(1)
      .map((r) => verified(r, ep.secret).data.id);
    expect(ids.sort()).toEqual([gone.id, ...owed.map((e) => e.id)].sort());
  });

  it("binds each sealed secret to its endpoint: copied to another tenant's endpoint it never signs", async () => {
    const other = await ll.createTenant('other');
    const victim = await new WebhooksClient(ll, other.apiKey).create(receiver.url('/victim'), [
      'moved.*',
    ]);
    const thief = await create('/thief', ['moved.*']);
    const [own] = await ll.sql<{ secret_sealed: string; secret_key_id: string }>(
      `SELECT secret_sealed, secret_key_id FROM webhook_endpoints WHERE id = $1`,
      [thief.id],
    );
    // A database writer copies tenant B's sealed secret (and its key id) onto their endpoint.
    await ll.sql(
      `UPDATE webhook_endpoints t SET secret_sealed = v.secret_sealed, secret_key_id = v.secret_key_id
       FROM webhook_endpoints v WHERE t.id = $1 AND v.id = $2`,
      [thief.id, victim.id],
    );
    const published = await hooks.publish('moved.event');
    const tried = await hooks.waitDelivery(thief.id, published.id, 'pending', (d) =>
      d.attempts.some((a) => a.error === 'secret_unreadable'),
    );
    expect(tried.attempts[0]).toMatchObject({ statusCode: null, error: 'secret_unreadable' });
    expect(receiver.received('/thief')).toHaveLength(0);
    // The victim's own endpoint still signs with its secret; then the thief's row is put back
    // (a row that does not open would stop the rekey test below, as it should).
    await ll.sql(
      `UPDATE webhook_endpoints SET secret_sealed = $2, secret_key_id = $3 WHERE id = $1`,
      [thief.id, own.secret_sealed, own.secret_key_id],
    );
    const removed = await ll.request('DELETE', `/v1/webhooks/endpoints/${thief.id}`, {
      key: tenant.apiKey,
    });
    expect(removed.status).toBe(204);
  });

  it('opens a secret sealed before owners were bound, and rekey binds it to its endpoint', async () => {
    const ep = await create('/legacy', ['legacy.*']);
    const plain = ep.secret;
    // What the previous release stored: sealed under the same key, without an owner.
    const legacy = new SecretBox({ current: Buffer.from(masterKey, 'base64') }).seal(plain);
    await ll.sql(`UPDATE webhook_endpoints SET secret_sealed = $2 WHERE id = $1`, [ep.id, legacy]);
    const before = await hooks.publish('legacy.one');
    await hooks.waitDelivery(ep.id, before.id, 'succeeded');
    verified(forEvent(receiver.received('/legacy'), before.id)[0], plain);

    const out = await ll.cliWith({ LEDGERLINE_MASTER_KEY: masterKey }, 'secrets', 'rekey');
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ rekeyed: 1 });
    const [row] = await ll.sql<{ secret_sealed: string }>(
      `SELECT secret_sealed FROM webhook_endpoints WHERE id = $1`,
      [ep.id],
    );
    expect(row.secret_sealed.startsWith('v2.')).toBe(true);
    const after = await hooks.publish('legacy.two');
    await hooks.waitDelivery(ep.id, after.id, 'succeeded');
    verified(forEvent(receiver.received('/legacy'), after.id)[0], plain);
  });

  it('signs only with the new secret once the overlap is over (WEBHOOK_SECRET_OVERLAP_SECONDS=0)', async () => {
    const ep = await create('/rot0', ['rot.*']);
    const fresh = await hooks.rotate(ep.id);
    const published = await hooks.publish('rot.event');
    const [req] = await receiver.waitForCount(1, '/rot0');
    expect(signatures(req)).toHaveLength(1);
    expect(verified(req, fresh).data.id).toBe(published.id);
    expect(() => verified(req, ep.secret)).toThrow();
  });

  it('rekeys every secret under a new master key; deliveries still verify with the original secret', async () => {
    const ep = await create('/rekey', ['rekey.*']);
    const publicKey = await ll.request('GET', '/v1/audit/public-key', { key: tenant.apiKey });
    expect(publicKey.status).toBe(200);
    const e1 = await hooks.publish('rekey.one');
    await hooks.waitDelivery(ep.id, e1.id, 'succeeded');
    const [{ id: oldKeyId }] = await ll.sql(
      'SELECT DISTINCT secret_key_id AS id FROM webhook_endpoints',
    );

    const newKey = randomBytes(32).toString('base64');
    const rotating = { LEDGERLINE_MASTER_KEY: newKey, LEDGERLINE_MASTER_KEY_PREVIOUS: masterKey };
    const restart = async (env: Record<string, string>) => {
      // Every old process is gone before a new one starts; the stops and the boots run side by side.
      await Promise.all([...ll.apis, ...ll.workers].map((p) => ll.stopProc(p)));
      await Promise.all([ll.startApi(env), ll.startWorker(env)]);
      ll.apis.unshift(ll.apis.pop()!); // baseUrl is the first API
    };
    await restart(rotating);

    // Old rows are opened with the previous key; new rows are sealed under the new one.
    const e2 = await hooks.publish('rekey.two');
    await hooks.waitDelivery(ep.id, e2.id, 'succeeded');
    const late = await create('/rekey-late', ['rekey.*']);
    const keyIds = async () =>
      (await ll.sql('SELECT DISTINCT secret_key_id AS id FROM webhook_endpoints')).map((r) => r.id);
    expect((await keyIds()).sort()).toHaveLength(2);
    const stale = await ll.sql<{ n: number }>(
      'SELECT count(*)::int AS n FROM webhook_endpoints WHERE secret_key_id = $1',
      [oldKeyId],
    );

    const out = await ll.cliWith(rotating, 'secrets', 'rekey');
    // Every endpoint sealed under the old key, plus the service's own sealed keys.
    const { rekeyed } = JSON.parse(out.trim().split('\n').pop()!) as { rekeyed: number };
    expect(rekeyed).toBeGreaterThanOrEqual(stale[0].n);
    const ids = await keyIds();
    expect(ids).toHaveLength(1);
    expect(ids[0]).not.toBe(oldKeyId);
    const previous = await ll.sql(
      `SELECT DISTINCT previous_secret_key_id AS id FROM webhook_endpoints
       WHERE previous_secret_sealed IS NOT NULL`,
    );
    expect(previous.map((r) => r.id)).toEqual(ids);
    // Running it again has nothing left to do.
    expect(JSON.parse((await ll.cliWith(rotating, 'secrets', 'rekey')).trim())).toEqual({
      rekeyed: 0,
    });

    // The previous key is no longer needed at all.
    await restart({ LEDGERLINE_MASTER_KEY: newKey });
    const e3 = await hooks.publish('rekey.three');
    await hooks.waitDelivery(ep.id, e3.id, 'succeeded');
    await hooks.waitDelivery(late.id, e3.id, 'succeeded');
    for (const e of [e1, e2, e3]) {
      for (const r of forEvent(receiver.received('/rekey'), e.id)) verified(r, ep.secret);
    }
    expect(forEvent(receiver.received('/rekey-late'), e3.id).length).toBeGreaterThan(0);
    for (const r of receiver.received('/rekey-late')) verified(r, late.secret);
    const stillSigned = await ll.request('GET', '/v1/audit/public-key', { key: tenant.apiKey });
    expect(stillSigned.status).toBe(200);
    expect(stillSigned.body.publicKey).toBe(publicKey.body.publicKey);
  });

  it('audits every endpoint change as an event and never stores or logs a plaintext secret', async () => {
    const patched = await ll.request('PATCH', `/v1/webhooks/endpoints/${watcher.id}`, {
      key: tenant.apiKey,
      body: { description: 'watches the watchers' },
    });
    expect(patched.status).toBe(200);
    await hooks.rotate(watcher.id);
    const types = (
      await ll.sql('SELECT DISTINCT type FROM events WHERE tenant_id = $1', [tenant.tenantId])
    ).map((r) => r.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'webhook.endpoint.created',
        'webhook.endpoint.updated',
        'webhook.endpoint.secret_rotated',
        'webhook.endpoint.disabled',
        'webhook.endpoint.enabled',
        'webhook.endpoint.recovered',
      ]),
    );
    // They are audited like any other event.
    await waitFor('audit entries for the endpoint changes', async () => {
      const audited = await ll.sql(
        `SELECT DISTINCT e.type FROM events e JOIN audit_entries a ON a.event_id = e.id
         WHERE e.tenant_id = $1 AND e.type LIKE 'webhook.endpoint.%'`,
        [tenant.tenantId],
      );
      return audited.length >= 6;
    });
    expect(hooks.secrets.length).toBeGreaterThanOrEqual(8);
    await expectSecretsNowhere(ll, hooks.secrets);
  });
});
