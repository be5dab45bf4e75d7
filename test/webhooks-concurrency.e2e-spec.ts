import { Ledgerline, Tenant, event, waitFor } from './support/ledgerline';
import { WebhookReceiver } from './support/webhook-receiver';

/**
 * Concurrent changes to one endpoint serialise on its row instead of deadlocking: recover,
 * enable, rotate-secret and PATCH each lock the endpoint before they touch its deliveries, so
 * none of them answers 503 (PostgreSQL's 40P01) however they interleave.
 */
describe('webhook endpoint changes under concurrency', () => {
  let ll: Ledgerline;
  let receiver: WebhookReceiver;
  let t: Tenant;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    ll = await Ledgerline.start({
      env: {
        WEBHOOK_ALLOW_HTTP: 'true',
        WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32',
        WEBHOOK_RETRY_SCHEDULE: '50ms,50ms',
        WEBHOOK_TIMEOUT_MS: '2000',
      },
    });
    t = await ll.createTenant('concurrency');
  });
  afterAll(async () => {
    await ll?.stop();
    await receiver?.close();
  });

  const call = (method: string, path: string, body?: unknown) =>
    ll.request(method, `/v1/webhooks/endpoints${path}`, { key: t.apiKey, body });

  /** An endpoint that fails every delivery, with `events` matching events behind it. */
  async function endpointWithHistory(path: string, events: number): Promise<string> {
    receiver.on(path, { status: 500 });
    const created = await call('POST', '', { url: receiver.url(path), eventTypes: ['load.*'] });
    expect(created.status).toBe(201);
    const res = await ll.request('POST', '/v1/events/batch', {
      key: t.apiKey,
      body: {
        events: Array.from({ length: events }, (_, i) => event({ type: 'load.item', data: { i } })),
      },
    });
    expect(res.status).toBe(202);
    const id = created.body.id as string;
    await waitFor('the deliveries made', async () => {
      const [{ n }] = await ll.sql(
        `SELECT count(*)::int AS n FROM webhook_deliveries WHERE tenant_id = $1 AND endpoint_id = $2`,
        [t.tenantId, id],
      );
      return n === events;
    });
    return id;
  }

  const since = { since: '2020-01-01T00:00:00Z' };

  it('answers 8 alternating recover and enable calls on one endpoint, none with 503', async () => {
    const id = await endpointWithHistory('/alternating', 20);
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        i % 2 ? call('POST', `/${id}/enable`) : call('POST', `/${id}/recover`, since),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual([202, 200, 202, 200, 202, 200, 202, 200]);
    for (const a of answers.filter((_, i) => i % 2 === 0)) {
      expect(a.body).toMatchObject({ endpointId: id, created: 0 });
    }
    expect((await call('GET', `/${id}`)).body.status).toBe('enabled');
  });

  it('serialises recover, enable, rotate-secret and PATCH on one endpoint, several rounds', async () => {
    const id = await endpointWithHistory('/mixed', 20);
    const calls = [
      () => call('POST', `/${id}/recover`, since),
      () => call('POST', `/${id}/enable`),
      () => call('POST', `/${id}/rotate-secret`),
      () => call('PATCH', `/${id}`, { description: 'changed' }),
    ];
    for (let round = 0; round < 3; round++) {
      const kinds = Array.from({ length: 12 }, (_, i) => (i + round) % calls.length);
      const answers = await Promise.all(kinds.map((k) => calls[k]()));
      expect(answers.map((a) => a.status)).toEqual(kinds.map((k) => (k === 0 ? 202 : 200)));
    }
    // every change was recorded (no transaction lost): 3 rounds × 3 of each kind
    const [{ n }] = await ll.sql(
      `SELECT count(*)::int AS n FROM events WHERE tenant_id = $1 AND subject = $2
         AND type IN ('webhook.endpoint.recovered', 'webhook.endpoint.enabled',
                      'webhook.endpoint.secret_rotated', 'webhook.endpoint.updated')`,
      [t.tenantId, `webhook_endpoint/${id}`],
    );
    expect(n).toBe(36);
  });
});
