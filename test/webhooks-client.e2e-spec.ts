import { apiClient, LedgerlineClient, ok, Schemas } from './support/api-client';
import { Ledgerline, Tenant, event, waitFor } from './support/ledgerline';
import { payloadOf, verified, WebhookReceiver } from './support/webhook-receiver';

/**
 * The webhook routes through the generated client (clients/typescript): every call below is
 * typed by docs/openapi.json, so a route or shape that drifts from the document fails here.
 */
describe('webhooks through the typed client', () => {
  let ll: Ledgerline;
  let acme: Tenant;
  let globex: Tenant;
  let api: LedgerlineClient;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    ll = await Ledgerline.start({
      env: {
        WEBHOOK_ALLOW_HTTP: 'true',
        WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32',
        WEBHOOK_RETRY_SCHEDULE: '200ms,400ms',
        WEBHOOK_TIMEOUT_MS: '2000',
      },
    });
    acme = await ll.createTenant('acme');
    globex = await ll.createTenant('globex');
    api = apiClient(ll, acme.apiKey);
  });
  afterAll(async () => {
    await ll.stop();
    await receiver.close();
  });

  const create = async (path: string, eventTypes: string[]) =>
    ok(
      await api.POST('/v1/webhooks/endpoints', {
        body: { url: receiver.url(path), eventTypes, description: path },
      }),
    );

  const deliveriesOf = async (id: string, status?: Schemas['DeliveryDto']['status']) =>
    ok(
      await api.GET('/v1/webhooks/endpoints/{id}/deliveries', {
        params: { path: { id }, query: { limit: 500, status } },
      }),
    ).data;

  it('creates, reads, lists, changes and deletes an endpoint', async () => {
    const created = await create('/crud', ['invoice.*']);
    expect(created).toMatchObject({
      url: receiver.url('/crud'),
      eventTypes: ['invoice.*'],
      status: 'enabled',
      description: '/crud',
      rateLimitPerSecond: null,
      disabledReason: null,
    });
    expect(created.secret).toMatch(/^whsec_/);
    const params = { path: { id: created.id } };
    const got = ok(await api.GET('/v1/webhooks/endpoints/{id}', { params }));
    expect(got).not.toHaveProperty('secret');
    expect(got.id).toBe(created.id);

    const page = ok(await api.GET('/v1/webhooks/endpoints', { params: { query: { limit: 500 } } }));
    expect(page.data.map((e) => e.id)).toContain(created.id);
    expect(page.nextCursor).toBeNull();

    const patched = ok(
      await api.PATCH('/v1/webhooks/endpoints/{id}', {
        params,
        body: { eventTypes: ['order.*'], rateLimitPerSecond: 5 },
      }),
    );
    expect(patched).toMatchObject({ eventTypes: ['order.*'], rateLimitPerSecond: 5 });

    const rotated = ok(await api.POST('/v1/webhooks/endpoints/{id}/rotate-secret', { params }));
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);

    const removed = await api.DELETE('/v1/webhooks/endpoints/{id}', { params });
    expect(removed.response.status).toBe(204);
    const gone = await api.GET('/v1/webhooks/endpoints/{id}', { params });
    expect(gone.response.status).toBe(404);
    expect(gone.error).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('answers a bad body with the documented validation problem', async () => {
    const res = await api.POST('/v1/webhooks/endpoints', {
      body: { url: 'not a url', eventTypes: [] },
    });
    expect(res.response.status).toBe(400);
    expect(res.response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.error).toMatchObject({ code: 'validation_failed', errors: expect.any(Array) });
    expect((res.error?.errors ?? []).map((e) => e.field)).toContain('eventTypes');
  });

  it('delivers a published event, signed, and lists the delivery with its attempt', async () => {
    const endpoint = await create('/invoices', ['invoice.*']);
    const accepted = ok(
      await api.POST('/v1/events', { body: event() as Schemas['PublishEventDto'] }),
    );
    expect(accepted.status).toBe('accepted');
    const [req] = await receiver.waitForCount(1, '/invoices');
    expect(verified(req, endpoint.secret).data.id).toBe(accepted.id);
    const delivery = await waitFor('the succeeded delivery', async () =>
      (await deliveriesOf(endpoint.id, 'succeeded')).find((d) => d.eventId === accepted.id),
    );
    expect(delivery).toMatchObject({ eventType: 'invoice.paid', attemptCount: 1 });
    expect(delivery.attempts[0]).toMatchObject({ statusCode: 200, error: null });

    const retried = ok(
      await api.POST('/v1/webhooks/deliveries/{id}/retry', {
        params: { path: { id: delivery.id } },
      }),
    );
    expect(retried).toEqual({ id: delivery.id, status: 'pending' });
    await receiver.waitForCount(2, '/invoices');

    const detail = ok(await api.GET('/v1/events/{id}', { params: { path: { id: accepted.id } } }));
    expect(detail.deliveries.succeeded).toBe(1);
  });

  it('recovers: creates the deliveries an endpoint never had', async () => {
    const before = new Date(Date.now() - 1000).toISOString();
    const first = ok(
      await api.POST('/v1/events', {
        body: event({ type: 'order.shipped' }) as Schemas['PublishEventDto'],
      }),
    );
    const late = await create('/late', ['order.*']);
    const result = ok(
      await api.POST('/v1/webhooks/endpoints/{id}/recover', {
        params: { path: { id: late.id } },
        body: { since: before },
      }),
    );
    expect(result).toMatchObject({ endpointId: late.id, created: 1, resent: 0 });
    const [req] = await receiver.waitForCount(1, '/late');
    expect(verified(req, late.secret).data.id).toBe(first.id);
  });

  describe('POST /v1/webhooks/endpoints/{id}/test', () => {
    it('sends a signed webhook.endpoint.test to that endpoint only, whatever it subscribes to', async () => {
      const target = await create('/test-target', ['invoice.paid']);
      const everything = await create('/test-bystander', ['*']);
      const webhooksToo = await create('/test-webhook-events', ['webhook.*']);
      const sent = ok(
        await api.POST('/v1/webhooks/endpoints/{id}/test', {
          params: { path: { id: target.id } },
        }),
      );
      expect(sent).toEqual({
        id: expect.any(String),
        status: 'pending',
        endpointId: target.id,
        eventId: expect.any(String),
        eventType: 'webhook.endpoint.test',
      });

      const [req] = await receiver.waitForCount(1, '/test-target');
      const payload = verified(req, target.secret);
      expect(req.headers['webhook-id']).toBeTruthy();
      expect(payload).toMatchObject({
        type: 'webhook.endpoint.test',
        data: {
          id: sent.eventId,
          type: 'webhook.endpoint.test',
          subject: `webhook_endpoint/${target.id}`,
          actor: { type: 'service' },
          data: { endpointId: target.id, message: expect.any(String) },
        },
      });
      const delivered = await waitFor('the test delivery to succeed', async () =>
        (await deliveriesOf(target.id, 'succeeded')).find((d) => d.id === sent.id),
      );
      expect(delivered.eventId).toBe(sent.eventId);

      // A later event reaches the bystanders: fan-out has passed the test event and skipped it.
      const marker = ok(
        await api.POST('/v1/events', { body: event() as Schemas['PublishEventDto'] }),
      );
      await waitFor('the marker at the * endpoint', async () =>
        receiver.received('/test-bystander').some((r) => payloadOf(r).data.id === marker.id),
      );
      await waitFor('webhook.* endpoint to settle', async () => {
        const rows = await ll.sql(
          `SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'pending'`,
          [webhooksToo.id],
        );
        return rows[0].n === 0;
      });
      const tests = (path: string) =>
        receiver.received(path).filter((r) => payloadOf(r).type === 'webhook.endpoint.test');
      expect(tests('/test-target')).toHaveLength(1);
      expect(tests('/test-bystander')).toEqual([]);
      expect(tests('/test-webhook-events')).toEqual([]);
      const rows = await ll.sql('SELECT endpoint_id FROM webhook_deliveries WHERE event_id = $1', [
        sent.eventId,
      ]);
      expect(rows.map((r) => r.endpoint_id)).toEqual([target.id]);
      expect(everything.id).not.toBe(target.id);

      // Recovering a * endpoint does not pick up another endpoint's test either.
      const recovered = ok(
        await api.POST('/v1/webhooks/endpoints/{id}/recover', {
          params: { path: { id: everything.id } },
          body: { since: new Date(Date.now() - 60000).toISOString() },
        }),
      );
      expect(recovered.endpointId).toBe(everything.id);
      const after = await ll.sql('SELECT endpoint_id FROM webhook_deliveries WHERE event_id = $1', [
        sent.eventId,
      ]);
      expect(after).toHaveLength(1);
    });

    it('is audited in the main chain', async () => {
      const target = await create('/test-audited', ['none.such']);
      const sent = ok(
        await api.POST('/v1/webhooks/endpoints/{id}/test', { params: { path: { id: target.id } } }),
      );
      const detail = await waitFor('the test event to be chained', async () => {
        const got = ok(
          await api.GET('/v1/events/{id}', { params: { path: { id: sent.eventId } } }),
        );
        return got.audit ? got : null;
      });
      expect(detail).toMatchObject({ type: 'webhook.endpoint.test', audit: { chain: 'main' } });
    });

    it("is 404 for an unknown or another tenant's endpoint", async () => {
      const theirs = ok(
        await apiClient(ll, globex.apiKey).POST('/v1/webhooks/endpoints', {
          body: { url: receiver.url('/globex'), eventTypes: ['*'] },
        }),
      );
      for (const id of [theirs.id, '00000000-0000-4000-8000-000000000000']) {
        const res = await api.POST('/v1/webhooks/endpoints/{id}/test', {
          params: { path: { id } },
        });
        expect(res.response.status).toBe(404);
        expect(res.error).toMatchObject({ code: 'not_found' });
      }
      expect(receiver.received('/globex')).toEqual([]);
    });

    it('needs webhooks:manage', async () => {
      const key = ok(
        await api.POST('/v1/api-keys', { body: { name: 'reader', scopes: ['events:read'] } }),
      );
      const target = await create('/test-scope', ['*']);
      const res = await apiClient(ll, key.key).POST('/v1/webhooks/endpoints/{id}/test', {
        params: { path: { id: target.id } },
      });
      expect(res.response.status).toBe(403);
      expect(res.error).toMatchObject({ code: 'insufficient_scope' });
    });
  });
});
