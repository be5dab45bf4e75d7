import { randomUUID } from 'node:crypto';
import { Database, DomainError, Sql } from '@app/platform';
import { WebhooksModule } from '@app/webhooks';
import { AttemptRepository } from '@app/webhooks/attempt.repository';
import { EndpointSecrets } from '@app/webhooks/endpoint-secrets';
import { WebhookDeliveryRepository } from '@app/webhooks/webhook-delivery.repository';
import { WebhookDeliveryService } from '@app/webhooks/webhook-delivery.service';
import { WebhookEndpointRepository } from '@app/webhooks/webhook-endpoint.repository';
import { WebhookEndpointService } from '@app/webhooks/webhook-endpoint.service';
import { MediumApp } from './support/medium-app';
import { factories } from './support/factories';

/** The core webhooks services (no HTTP, no dispatcher) on real PostgreSQL. */
describe('webhooks (medium: endpoint and delivery services on real PostgreSQL)', () => {
  let m: MediumApp;
  let make: ReturnType<typeof factories>;
  let endpoints: WebhookEndpointService;
  let deliveries: WebhookDeliveryService;

  beforeAll(async () => {
    m = await MediumApp.start([WebhooksModule], {
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32',
    });
    make = factories(m);
    endpoints = m.get(WebhookEndpointService);
    deliveries = m.get(WebhookDeliveryService);
  });
  afterAll(() => m?.stop());

  const rowsOf = (endpointId: string) =>
    m.db.query<{ event_id: string; status: string; next_attempt_at: Date | null }>(
      `SELECT event_id, status, next_attempt_at FROM webhook_deliveries
       WHERE endpoint_id = $1 ORDER BY event_id`,
      [endpointId],
    );
  const endpointCount = async (tenantId: string) =>
    (
      await m.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM webhook_endpoints WHERE tenant_id = $1',
        [tenantId],
      )
    )[0].n;

  it('creates an endpoint on an allowed address and refuses one outside the allowed CIDR', async () => {
    const tenant = await make.tenant();
    const created = await make.endpoint(tenant, { url: 'http://127.0.0.1:9/hook' });
    expect(created).toMatchObject({
      url: 'http://127.0.0.1:9/hook',
      eventTypes: ['invoice.*'],
      status: 'enabled',
      secret: expect.stringMatching(/^whsec_/),
    });
    for (const url of [
      'http://127.0.0.2/hook',
      'http://10.0.0.1/hook',
      'http://169.254.169.254/',
    ]) {
      await expect(make.endpoint(tenant, { url })).rejects.toMatchObject({
        code: 'unsafe_url',
        status: 422,
      } satisfies Partial<DomainError>);
    }
    await expect(make.endpoint(tenant, { url: 'not a url' })).rejects.toMatchObject({
      code: 'validation_failed',
    });
    // Only the allowed one exists, and only it was recorded (without its secret).
    expect(await endpointCount(tenant.tenantId)).toBe(1);
    const recorded = await m.db.query<{ type: string; data: string }>(
      `SELECT type, data::text AS data FROM events WHERE tenant_id = $1 AND type LIKE 'webhook.%'`,
      [tenant.tenantId],
    );
    expect(recorded.map((r) => r.type)).toEqual(['webhook.endpoint.created']);
    expect(recorded[0].data).toContain(created.id);
    expect(recorded[0].data).not.toContain(created.secret.replace(/^whsec_/, ''));
  });

  it('seals the secret bound to its endpoint: moved to another endpoint row it does not open', async () => {
    const tenant = await make.tenant();
    const mine = await make.endpoint(tenant);
    const other = await make.endpoint(tenant, { url: 'http://127.0.0.1:9/other' });
    const secrets = m.get(EndpointSecrets);
    const sealedOf = async (id: string) =>
      (
        await m.db.query<{ secret_sealed: string }>(
          'SELECT secret_sealed FROM webhook_endpoints WHERE id = $1',
          [id],
        )
      )[0].secret_sealed;
    const sealed = await sealedOf(mine.id);
    expect(sealed).not.toContain(mine.secret.replace(/^whsec_/, ''));
    expect(secrets.open(tenant.tenantId, mine.id, sealed)).toBe(mine.secret);
    // A database writer copies it onto the other endpoint's row: it does not open there.
    await m.db.query('UPDATE webhook_endpoints SET secret_sealed = $2 WHERE id = $1', [
      other.id,
      sealed,
    ]);
    expect(() => secrets.open(tenant.tenantId, other.id, sealed)).toThrow();
    const moved = await m.get(WebhookEndpointRepository).get(tenant.tenantId, other.id);
    expect(() => secrets.signing(moved!)).toThrow();
    // Nor under another tenant with the same endpoint id.
    const stranger = await make.tenant('stranger');
    expect(() => secrets.open(stranger.tenantId, mine.id, sealed)).toThrow();
    expect(secrets.open(tenant.tenantId, mine.id, await sealedOf(mine.id))).toBe(mine.secret);
  });

  it('a disabled endpoint gets waiting deliveries (retry, recover); enable makes them due', async () => {
    const tenant = await make.tenant();
    const ep = await make.endpoint(tenant, { eventTypes: ['order.*'] });
    const [first, second] = await make.events(tenant.tenantId, 2, { type: 'order.paid' });
    const repo = m.get(WebhookDeliveryRepository);
    const [delivery] = await repo.insertMany(m.db, tenant.tenantId, [
      {
        id: randomUUID(),
        endpointId: ep.id,
        eventId: first.id,
        eventType: first.type,
        status: 'pending',
      },
    ]);
    // What the dispatcher does when the endpoint keeps failing.
    await m.get(WebhookEndpointRepository).update(m.db, tenant.tenantId, ep.id, {
      status: 'disabled',
      disabledReason: 'failing',
    });

    expect(await deliveries.retry(tenant.auth, delivery.id)).toEqual({
      id: delivery.id,
      status: 'waiting',
    });
    const since = new Date(first.receivedAt.getTime() - 1000);
    expect(await deliveries.recover(tenant.auth, ep.id, since)).toMatchObject({
      resent: 1,
      created: 1,
    });
    expect((await endpoints.get(tenant.auth, ep.id)).status).toBe('disabled');
    const waiting = await rowsOf(ep.id);
    expect(waiting.map((r) => [r.event_id, r.status, r.next_attempt_at])).toEqual(
      [first.id, second.id].sort().map((id) => [id, 'waiting', null]),
    );

    const enabled = await endpoints.enable(tenant.auth, ep.id);
    expect(enabled).toMatchObject({ status: 'enabled', disabledReason: null });
    for (const r of await rowsOf(ep.id)) {
      expect(r.status).toBe('pending');
      expect(r.next_attempt_at).toBeInstanceOf(Date);
    }
  });

  it('recover creates the deliveries an enabled endpoint never had, since `since` and matching only', async () => {
    const tenant = await make.tenant();
    const ep = await make.endpoint(tenant, { eventTypes: ['invoice.*'] });
    const hourAgo = new Date(Date.now() - 3600_000);
    const [old] = await make.events(tenant.tenantId, 1, { receivedAt: hourAgo });
    const owed = await make.events(tenant.tenantId, 3);
    const [unrelated] = await make.events(tenant.tenantId, 1, { type: 'user.created' });

    const since = new Date(hourAgo.getTime() + 1000);
    expect(await deliveries.recover(tenant.auth, ep.id, since)).toEqual({
      endpointId: ep.id,
      since: since.toISOString(),
      resent: 0,
      created: 3,
    });
    const rows = await rowsOf(ep.id);
    expect(rows.map((r) => [r.event_id, r.status])).toEqual(
      owed
        .map((e) => e.id)
        .sort()
        .map((id) => [id, 'pending']),
    );
    expect(rows.map((r) => r.event_id)).not.toContain(old.id);
    expect(rows.map((r) => r.event_id)).not.toContain(unrelated.id);
    // Again: nothing is missing now, nothing failed.
    expect(await deliveries.recover(tenant.auth, ep.id, since)).toMatchObject({
      resent: 0,
      created: 0,
    });
    expect(await rowsOf(ep.id)).toHaveLength(3);
  });

  it("answers 404 for another tenant's endpoint and delivery, and changes nothing", async () => {
    const owner = await make.tenant('owner');
    const intruder = await make.tenant('intruder');
    const ep = await make.endpoint(owner);
    const [e] = await make.events(owner.tenantId, 1);
    const [delivery] = await m.get(WebhookDeliveryRepository).insertMany(m.db, owner.tenantId, [
      {
        id: randomUUID(),
        endpointId: ep.id,
        eventId: e.id,
        eventType: e.type,
        status: 'waiting',
      },
    ]);
    const before = await endpoints.get(owner.auth, ep.id);
    const auth = intruder.auth;
    const attempts: [string, () => Promise<unknown>][] = [
      ['get', () => endpoints.get(auth, ep.id)],
      ['update', () => endpoints.update(auth, ep.id, { description: 'mine now' })],
      ['remove', () => endpoints.remove(auth, ep.id)],
      ['rotateSecret', () => endpoints.rotateSecret(auth, ep.id)],
      ['enable', () => endpoints.enable(auth, ep.id)],
      ['deliveries', () => deliveries.list(auth, ep.id, undefined, null, 10)],
      ['retry', () => deliveries.retry(auth, delivery.id)],
      ['recover', () => deliveries.recover(auth, ep.id, new Date(0))],
    ];
    for (const [name, attempt] of attempts) {
      const outcome = await attempt().then(
        () => 'allowed',
        (err: DomainError) => err.status,
      );
      expect({ name, outcome }).toEqual({ name, outcome: 404 });
    }
    expect(await endpoints.list(auth, null, 10)).toEqual([]);
    expect(await endpoints.get(owner.auth, ep.id)).toEqual(before);
    expect((await rowsOf(ep.id)).map((r) => r.status)).toEqual(['waiting']);
    const intruderEvents = await m.db.query(
      `SELECT type FROM events WHERE tenant_id = $1 AND type LIKE 'webhook.%'`,
      [intruder.tenantId],
    );
    expect(intruderEvents).toEqual([]);
  });

  describe('a backlog of 20,000 pending deliveries behind statistics that say none are pending', () => {
    let tenant: Awaited<ReturnType<typeof make.tenant>>;
    let endpointId: string;
    let batch: string[];

    beforeAll(async () => {
      tenant = await make.tenant('backlog');
      endpointId = (await make.endpoint(tenant)).id;
      const addDeliveries = (n: number, status: string) =>
        m.db.query(
          `INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, event_id, event_type, status, next_attempt_at)
           SELECT $1, gen_random_uuid(), $2, gen_random_uuid(), 'invoice.paid', $3,
                  CASE WHEN $3 = 'pending' THEN now() END
           FROM generate_series(1, $4)`,
          [tenant.tenantId, endpointId, status, n],
        );
      await addDeliveries(200, 'succeeded');
      await m.db.query('ANALYZE webhook_deliveries');
      await addDeliveries(20000, 'pending');
    });

    // A fresh batch of 50 due deliveries for each test.
    beforeEach(async () => {
      const rows = await m.db.query<{ id: string }>(
        `SELECT id FROM webhook_deliveries
         WHERE tenant_id = $1 AND status = 'pending' AND attempt_count = 0
           AND next_attempt_at <= now() LIMIT 50`,
        [tenant.tenantId],
      );
      batch = rows.map((r) => r.id);
    });

    /** Rows of webhook_deliveries that `work` read, by any plan (sequential, index or bitmap). */
    const rowsReadBy = (work: (tx: Sql) => Promise<void>) =>
      m.db.transaction(async (tx) => {
        const rowsRead = async () =>
          (
            await tx.query<{ rows: number }>(
              `SELECT (seq_tup_read + coalesce(idx_tup_fetch, 0))::int AS rows
               FROM pg_stat_xact_user_tables WHERE relname = 'webhook_deliveries'`,
            )
          )[0].rows;
        const before = await rowsRead();
        await work(tx);
        return (await rowsRead()) - before;
      });

    it('records a batch of outcomes without reading the backlog', async () => {
      const history = { failures: 0, since: null, disabled: false };
      const read = await rowsReadBy(async (tx) => {
        const recorded = await new AttemptRepository().write(
          tx,
          batch.map((deliveryId) => ({
            tenantId: tenant.tenantId,
            attemptId: randomUUID(),
            deliveryId,
            endpointId,
            attempt: 0,
            result: { statusCode: 200, error: null },
            durationMs: 3,
            responseBody: 'ok',
          })),
          batch.map(() => ({ status: 'succeeded', delayMs: null, disableReason: null, history })),
          new Map([[endpointId, { history, disableReason: null }]]),
        );
        expect(recorded.every((r) => r.moved)).toBe(true);
      });
      expect(read).toBeLessThan(1000);
    });

    /** The repository on the test's transaction, so its reads are counted. */
    const deliveriesIn = (tx: Sql) =>
      new WebhookDeliveryRepository({ query: tx.query.bind(tx) } as unknown as Database);

    it('claims a batch of due deliveries without reading the backlog', async () => {
      const read = await rowsReadBy(async (tx) => {
        const repo = deliveriesIn(tx);
        const claimed = await Promise.all(
          batch.map((id) => repo.claimForAttempt(tenant.tenantId, id, 0, 30000)),
        );
        expect(claimed.every((c) => c !== null)).toBe(true);
      });
      expect(read).toBeLessThan(1000);
    });

    it('gives a batch of claims back without reading the backlog (a worker stopping)', async () => {
      const read = await rowsReadBy(async (tx) => {
        const repo = deliveriesIn(tx);
        await Promise.all(batch.map((id) => repo.unclaim(tenant.tenantId, id, 0)));
      });
      expect(read).toBeLessThan(1000);
    });
  });
});
