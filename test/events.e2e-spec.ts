import { apiClient, LedgerlineClient, ok, Schemas } from './support/api-client';
import { Ledgerline, Tenant, event as untypedEvent } from './support/ledgerline';

/** An event body as the document types it (the helper's loose object, checked here). */
const event = (overrides: Record<string, unknown> = {}) =>
  untypedEvent(overrides) as Schemas['PublishEventDto'];

describe('POST /v1/events', () => {
  let ll: Ledgerline;
  let acme: Tenant;
  let globex: Tenant;
  /** The generated client (clients/typescript) for acme and globex: valid calls go through it. */
  let api: LedgerlineClient;
  let globexApi: LedgerlineClient;

  beforeAll(async () => {
    ll = await Ledgerline.start({ workers: 0 });
    acme = await ll.createTenant('acme');
    globex = await ll.createTenant('globex');
    api = apiClient(ll, acme.apiKey);
    globexApi = apiClient(ll, globex.apiKey);
  });
  afterAll(() => ll.stop());

  const publish = (body: unknown, headers: Record<string, string> = {}, key = acme.apiKey) =>
    ll.request('POST', '/v1/events', { key, body, headers });
  const countEvents = async (tenantId = acme.tenantId) =>
    Number(
      (await ll.sql(`SELECT count(*) AS n FROM events WHERE tenant_id = $1`, [tenantId]))[0].n,
    );

  const getEvent = async (id: string) =>
    ok(await api.GET('/v1/events/{id}', { params: { path: { id } } }));

  it('commits the event before answering 202 and reads it back', async () => {
    const res = await api.POST('/v1/events', {
      body: event({ occurredAt: '2026-11-22T10:00:00Z', actingAsTenantId: globex.tenantId }),
    });
    expect(res.response.status).toBe(202);
    const accepted = ok(res);
    expect(accepted).toEqual({
      id: expect.any(String),
      type: 'invoice.paid',
      status: 'accepted',
      receivedAt: expect.any(String),
    });
    const [row] = await ll.sql('SELECT * FROM events WHERE id = $1', [accepted.id]);
    expect(row.tenant_id).toBe(acme.tenantId);
    const got = await getEvent(accepted.id);
    expect(got).toMatchObject({
      id: accepted.id,
      type: 'invoice.paid',
      subject: 'invoice/inv_123',
      actor: { type: 'user', id: 'u_42' },
      actingAsTenantId: globex.tenantId,
      occurredAt: '2026-11-22T10:00:00.000Z',
      data: { amount: 1200, currency: 'EUR' },
      deliveries: { pending: 0, succeeded: 0, failed: 0 },
    });
    expect(got).toHaveProperty('audit');
  });

  it('defaults occurredAt to now and subject to null', async () => {
    const accepted = ok(
      await api.POST('/v1/events', {
        body: { type: 'user.signed_up', actor: { type: 'service', id: 'svc' }, data: {} },
      }),
    );
    const got = await getEvent(accepted.id);
    expect(got.subject).toBeNull();
    expect(Math.abs(Date.parse(got.occurredAt) - Date.now())).toBeLessThan(60000);
  });

  describe('Idempotency-Key', () => {
    const publishWithKey = (client: LedgerlineClient, key: string, body = event()) =>
      client.POST('/v1/events', { body, params: { header: { 'Idempotency-Key': key } } });

    it('replays the first answer for the same body and creates nothing', async () => {
      const before = await countEvents();
      const first = await publishWithKey(api, 'order-1');
      const again = await publishWithKey(api, 'order-1');
      expect(again.response.status).toBe(first.response.status);
      expect(ok(again)).toEqual(ok(first));
      expect(await countEvents()).toBe(before + 1);
    });

    it('answers 409 idempotency_conflict for a different body', async () => {
      await publishWithKey(api, 'order-2');
      const other = await publishWithKey(api, 'order-2', event({ data: { amount: 1 } }));
      expect(other.response.status).toBe(409);
      expect(other.error).toMatchObject({ status: 409, code: 'idempotency_conflict' });
    });

    it('keeps keys per tenant', async () => {
      const a = ok(await publishWithKey(api, 'shared-key'));
      const b = await publishWithKey(globexApi, 'shared-key');
      expect(b.response.status).toBe(202);
      expect(ok(b).id).not.toBe(a.id);
    });

    it('gives concurrent requests with one key one event', async () => {
      const before = await countEvents();
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => publish(event(), { 'idempotency-key': 'race-1' })),
      );
      expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
      expect(answers.every((a) => a.status === 202)).toBe(true);
      expect(await countEvents()).toBe(before + 1);
    });

    it('refuses an over-long key', async () => {
      const res = await publish(event(), { 'idempotency-key': 'k'.repeat(256) });
      expect(res.status).toBe(400);
    });
  });

  describe('batch', () => {
    it('accepts 1-500 events and answers ids in order', async () => {
      const res = await api.POST('/v1/events/batch', {
        body: {
          events: [event({ subject: 'a' }), event({ subject: 'b' }), event({ subject: 'c' })],
        },
      });
      expect(res.response.status).toBe(202);
      const { ids } = ok(res);
      expect(ids).toHaveLength(3);
      const rows = await ll.sql(
        'SELECT id, subject FROM events WHERE id = ANY($1) ORDER BY position',
        [ids],
      );
      expect(rows.map((r) => r.id)).toEqual(ids);
      expect(rows.map((r) => r.subject)).toEqual(['a', 'b', 'c']);
    });

    it('numbers each tenant without gaps or repeats when batches of two tenants commit together', async () => {
      const batches = Array.from({ length: 40 }, (_, b) =>
        ll.request('POST', '/v1/events/batch', {
          key: b % 2 ? globex.apiKey : acme.apiKey,
          body: { events: Array.from({ length: 25 }, (_, i) => event({ subject: `${b}/${i}` })) },
        }),
      );
      const answers = await Promise.all(batches);
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
      for (const tenant of [acme, globex]) {
        const [stream] = await ll.sql(
          `SELECT count(*)::int AS n, min(position)::int AS first, max(position)::int AS last,
                  (SELECT position::int FROM tenant_streams WHERE tenant_id = $1) AS head
           FROM events WHERE tenant_id = $1`,
          [tenant.tenantId],
        );
        expect(stream).toEqual({ n: stream.last, first: 1, last: stream.head, head: stream.head });
      }
      // Each request's events keep their order on consecutive positions.
      for (const a of answers) {
        const rows = await ll.sql<{ id: string; position: string }>(
          'SELECT id, position FROM events WHERE id = ANY($1) ORDER BY position',
          [a.body.ids],
        );
        expect(rows.map((r) => r.id)).toEqual(a.body.ids);
        expect(Number(rows[24].position) - Number(rows[0].position)).toBe(24);
      }
    });

    it('is all or nothing', async () => {
      const before = await countEvents();
      const bad = await ll.request('POST', '/v1/events/batch', {
        key: acme.apiKey,
        body: { events: [event(), event({ type: 'Not Valid' }), event()] },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0].field).toMatch(/^events\.1\.type/);
      const reserved = await ll.request('POST', '/v1/events/batch', {
        key: acme.apiKey,
        body: { events: [event(), event({ type: 'webhook.endpoint.created' })] },
      });
      expect(reserved.status).toBe(422);
      expect(await countEvents()).toBe(before);
    });

    it('refuses empty and oversized batches', async () => {
      for (const events of [[], Array.from({ length: 501 }, () => event())]) {
        const res = await ll.request('POST', '/v1/events/batch', {
          key: acme.apiKey,
          body: { events },
        });
        expect(res.status).toBe(400);
      }
    });

    it('replays a batch by Idempotency-Key', async () => {
      const body = { events: [event(), event()] };
      const params = { header: { 'Idempotency-Key': 'b1' } };
      const a = ok(await api.POST('/v1/events/batch', { body, params }));
      const b = ok(await api.POST('/v1/events/batch', { body, params }));
      expect(b).toEqual(a);
      expect(a.ids).toHaveLength(2);
    });
  });

  it('refuses reserved types with 422 reserved_type', async () => {
    for (const type of [
      'tenant.created',
      'api_key.created',
      'webhook.endpoint.created',
      'audit.checkpoint',
      'ai_action.approved',
      'consent.granted',
    ]) {
      const res = await publish(event({ type }));
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('reserved_type');
    }
  });

  describe('hostile input: a clear 4xx, nothing stored, never a 500', () => {
    const cases: [string, unknown, number][] = [
      ['type wrong type', event({ type: 42 }), 400],
      ['type upper case', event({ type: 'Invoice.Paid' }), 400],
      ['type without dot', event({ type: 'invoice' }), 400],
      ['type too long', event({ type: `a.${'b'.repeat(130)}` }), 400],
      ['actor missing', { type: 'a.b', data: {} }, 400],
      ['actor type unknown', event({ actor: { type: 'robot', id: 'x' } }), 400],
      ['actor id too long', event({ actor: { type: 'user', id: 'x'.repeat(129) } }), 400],
      ['actor is a string', event({ actor: 'u1' }), 400],
      ['data is an array', event({ data: [1, 2] }), 400],
      ['data is a string', event({ data: 'x' }), 400],
      ['data is null', event({ data: null }), 400],
      ['occurredAt not a date', event({ occurredAt: 'yesterday' }), 400],
      ['occurredAt a number', event({ occurredAt: 12345 }), 400],
      ['occurredAt past year 9999', event({ occurredAt: '9999-12-31T23:00:00-02:00' }), 400],
      ['occurredAt an ISO week date', event({ occurredAt: '2020-W01-1' }), 400],
      ['occurredAt an ISO ordinal date', event({ occurredAt: '2020-366' }), 400],
      ['occurredAt with a decimal comma', event({ occurredAt: '2020-01-01T10:00,5Z' }), 400],
      ['actingAsTenantId bad uuid', event({ actingAsTenantId: "1' OR '1'='1" }), 400],
      ['unknown field', event({ tenantId: 'x' }), 400],
      ['unknown nested field', event({ actor: { type: 'user', id: 'x', admin: true } }), 400],
      ['body is an array', [event()], 400],
      ['body is a string', 'hello', 400],
      ['body is null', null, 400],
    ];
    it.each(cases)('%s', async (_name, body, status) => {
      const before = await countEvents();
      const res = await publish(body);
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body).toMatchObject({
        type: expect.any(String),
        title: expect.any(String),
        status,
        detail: expect.any(String),
        code: expect.any(String),
      });
      expect(await countEvents()).toBe(before);
    });

    it('refuses __proto__ and constructor.prototype keys', async () => {
      for (const raw of [
        '{"type":"a.b","actor":{"type":"user","id":"x"},"data":{"__proto__":{"admin":true}}}',
        '{"type":"a.b","actor":{"type":"user","id":"x"},"data":{"constructor":{"prototype":{"x":1}}}}',
        '{"__proto__":{"x":1}}',
      ]) {
        const res = await ll.request('POST', '/v1/events', { key: acme.apiKey, raw });
        expect(res.status).toBe(400);
      }
    });

    it('refuses JSON nested deeper than 64 levels, accepts 60', async () => {
      let deep: unknown = 1;
      for (let i = 0; i < 100; i++) deep = { d: deep };
      expect((await publish(event({ data: deep }))).status).toBe(400);
      let ok: unknown = 1;
      for (let i = 0; i < 60; i++) ok = { d: ok };
      expect((await publish(event({ data: ok }))).status).toBe(202);
      const arrays = '['.repeat(5000) + ']'.repeat(5000);
      expect(
        (await ll.request('POST', '/v1/events', { key: acme.apiKey, raw: arrays })).status,
      ).toBe(400);
    });

    it('answers 413 for a body over 256 KiB', async () => {
      const res = await publish(event({ data: { blob: 'x'.repeat(300 * 1024) } }));
      expect(res.status).toBe(413);
      expect(res.body.code).toBe('payload_too_large');
    });

    it('answers 4xx for broken JSON and other content types', async () => {
      for (const raw of ['{', '{"type":', 'nul', '\u0000', '{"a":1}{"b":2}']) {
        const res = await ll.request('POST', '/v1/events', { key: acme.apiKey, raw });
        expect(res.status).toBe(400);
      }
      const xml = await ll.request('POST', '/v1/events', {
        key: acme.apiKey,
        raw: '<a/>',
        headers: { 'content-type': 'application/xml' },
      });
      expect(xml.status).toBe(415);
    });

    it('stores SQL-ish strings verbatim', async () => {
      const nasty = "'; DROP TABLE events; -- \u0000? $1 \\x00 ' OR 1=1";
      const res = await publish(
        event({ subject: nasty.replace('\u0000', ''), data: { q: nasty.replace('\u0000', '') } }),
      );
      expect(res.status).toBe(202);
      const got = await ll.request('GET', `/v1/events/${res.body.id}`, { key: acme.apiKey });
      expect(got.body.data.q).toBe(nasty.replace('\u0000', ''));
    });

    it('answers 4xx for NUL characters and lone surrogates instead of a database error', async () => {
      const before = await countEvents();
      const raw = JSON.stringify(event({ subject: 'x', data: { s: 'y' } }));
      for (const res of [
        await publish(event({ data: { s: 'a\u0000b' } })),
        await publish(event({ subject: 'a\u0000b' })),
        await publish(event({ actor: { type: 'user', id: 'a\u0000b' } })),
        await ll.request('POST', '/v1/events', {
          key: acme.apiKey,
          raw: raw.replace('"x"', '"\\udc00"'),
        }),
        await ll.request('POST', '/v1/events', {
          key: acme.apiKey,
          raw: raw.replace('"y"', '"\\ud800"'),
        }),
      ]) {
        expect(res.status).toBeLessThan(500);
        expect(res.status).toBeGreaterThanOrEqual(400);
      }
      expect(await countEvents()).toBe(before);
    });

    it("isolates one request's unstorable value from the requests committed with it", async () => {
      const good = Array.from({ length: 20 }, () => publish(event()));
      const bad = ll.request('POST', '/v1/events', {
        key: acme.apiKey,
        raw: JSON.stringify(event({ data: { s: 'x' } })).replace('"x"', '"\\ud800"'),
      });
      const answers = await Promise.all([...good, bad]);
      expect(answers.slice(0, 20).every((a) => a.status === 202)).toBe(true);
      expect(answers[20].status).toBe(400);
    });

    it('refuses arrays where objects are due, with errors[] and nothing stored', async () => {
      const before = await countEvents();
      for (const [res, field] of [
        [await publish(event({ actor: [] })), 'actor'],
        [await publish(event({ actor: [{ type: 'user', id: 'u' }] })), 'actor'],
        [await publish(event({ data: [] })), 'data'],
        [await publish([event()]), 'body'],
        [
          await ll.request('POST', '/v1/events/batch', {
            key: acme.apiKey,
            body: { events: [[]] },
          }),
          'events.0',
        ],
        [
          await ll.request('POST', '/v1/events/batch', {
            key: acme.apiKey,
            body: { events: [event({ actor: [] })] },
          }),
          'events.0.actor',
        ],
      ] as const) {
        expect({ status: res.status, field: res.body.errors?.[0]?.field }).toEqual({
          status: 400,
          field,
        });
      }
      expect(await countEvents()).toBe(before);
    });

    it('refuses numbers outside double range, with or without Idempotency-Key', async () => {
      const before = await countEvents();
      const raw = JSON.stringify(event({ data: { x: 1 } })).replace('"x":1', '"x":1e400');
      for (const headers of [{}, { 'idempotency-key': 'big-number' }] as Record<string, string>[]) {
        const res = await ll.request('POST', '/v1/events', { key: acme.apiKey, raw, headers });
        expect(res.status).toBe(400);
        expect(res.body.errors).toEqual([
          { field: 'data.x', message: 'numbers must be within double range' },
        ]);
      }
      expect(await countEvents()).toBe(before);
    });

    it('stores data exactly as sent whatever its keys, and hashes it so', async () => {
      const data = JSON.parse('{"constructor":1,"toString":"t","valueOf":{"hasOwnProperty":[1]}}');
      // One plain neighbour and one that takes the full validation path (a null subject).
      const batch = await ll.request('POST', '/v1/events/batch', {
        key: acme.apiKey,
        body: { events: [event({ data }), event({ data, subject: null })] },
      });
      expect(batch.status).toBe(202);
      for (const id of batch.body.ids) {
        const got = await ll.request('GET', `/v1/events/${id}`, { key: acme.apiKey });
        expect(got.body.data).toEqual(data);
      }
      const headers = { 'idempotency-key': 'proto-keys' };
      expect((await publish(event({ data, subject: null }), headers)).status).toBe(202);
      const other = await publish(
        event({ data: { valueOf: { hasOwnProperty: [1] } }, subject: null }),
        headers,
      );
      expect(other.status).toBe(409);
    });

    it('refuses week and ordinal dates and impossible days in every date field', async () => {
      for (const occurredAt of [
        '2020-W01',
        '2020-W01-1',
        '2026-02-30T00:00:00Z',
        '2020-01-01T24:00:00Z',
      ]) {
        const res = await publish(event({ occurredAt }));
        expect({ occurredAt, status: res.status, field: res.body.errors?.[0]?.field }).toEqual({
          occurredAt,
          status: 400,
          field: 'occurredAt',
        });
      }
    });

    it('refuses a 50,000-element batch at once, with a short answer', async () => {
      const body = { events: Array.from({ length: 50000 }, () => ({})) };
      const res = await ll.request('POST', '/v1/events/batch', { key: acme.apiKey, body });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([
        { field: 'events', message: 'events must contain no more than 500 elements' },
      ]);
      expect(res.text.length).toBeLessThan(1000);
      // 500 invalid events: at most 20 errors listed, and how many there were.
      const many = await ll.request('POST', '/v1/events/batch', {
        key: acme.apiKey,
        body: { events: Array.from({ length: 500 }, () => ({})) },
      });
      expect(many.status).toBe(400);
      expect(many.body.errors).toHaveLength(20);
      expect(many.body.errorCount).toBeGreaterThan(500);
    });

    it('refuses a large batch without a key before reading it', async () => {
      const raw = JSON.stringify({ events: Array.from({ length: 1300000 }, () => ({})) });
      const res = await ll.request('POST', '/v1/events/batch', { raw });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('unauthorized');
    });

    it("answers the router's own errors as problem+json", async () => {
      for (const [path, status] of [
        ['/v1/events/%ED%A0%80', 400],
        ['/v1/events/%', 400],
        [`/v1/events/${'a'.repeat(5000)}`, 414],
        ['/v1/nowhere', 404],
        ['/v1/events/x/y', 404],
      ] as const) {
        const res = await ll.request('GET', path, { key: acme.apiKey });
        expect({
          path: path.slice(0, 40),
          status: res.status,
          type: res.headers.get('content-type'),
        }).toEqual({
          path: path.slice(0, 40),
          status,
          type: expect.stringContaining('application/problem+json'),
        });
        expect(res.body).toMatchObject({
          status,
          type: expect.any(String),
          code: expect.any(String),
        });
        expect(res.headers.get('x-frame-options')).toBe('DENY');
      }
      const text = await ll.request('POST', '/v1/events', {
        key: acme.apiKey,
        raw: 'a: 1',
        headers: { 'content-type': 'application/yaml' },
      });
      expect(text.status).toBe(415);
      expect(text.headers.get('content-type')).toContain('application/problem+json');
      // Headers over Node's size limit (a 256 KiB query string) never reach fastify.
      const huge = await ll.request('GET', `/v1/events?cursor=${'ab'.repeat(128 * 1024)}`, {
        key: acme.apiKey,
      });
      expect(huge.status).toBe(431);
      expect(huge.headers.get('content-type')).toContain('application/problem+json');
      expect(huge.body).toMatchObject({ status: 431, code: 'headers_too_large' });
    });

    it('treats bad UUIDs and other ids as not found', async () => {
      for (const id of [
        'not-a-uuid',
        "1' OR '1'='1",
        '00000000-0000-0000-0000-000000000000',
        '%00',
        'a'.repeat(300),
      ]) {
        const res = await ll.request('GET', `/v1/events/${encodeURIComponent(id)}`, {
          key: acme.apiKey,
        });
        expect([404, 414]).toContain(res.status);
      }
    });

    it('survives hostile headers and query strings', async () => {
      const odd: Record<string, string>[] = [
        { 'x-tenant-id': "'; DROP TABLE tenants; --" },
        { authorization: 'Bearer ' + 'x'.repeat(5000) },
        { 'x-api-key': '' },
        { 'idempotency-key': '' },
        { 'x-request-id': '../../etc/passwd' },
      ];
      for (const headers of odd) {
        const res = await ll.request('POST', '/v1/events?limit=abc&cursor=%00&__proto__[x]=1', {
          key: headers.authorization ? undefined : acme.apiKey,
          body: event(),
          headers,
        });
        expect(res.status).toBeLessThan(500);
      }
    });
  });

  // Last: it stops the API.
  it('keeps every 202 of a burst cut short by SIGTERM, logs no error and exits 0', async () => {
    const burst = Array.from({ length: 40 }, (_, b) =>
      ll
        .request('POST', '/v1/events/batch', {
          key: acme.apiKey,
          body: { events: Array.from({ length: 50 }, (_, i) => event({ subject: `t/${b}/${i}` })) },
        })
        .catch(() => null),
    );
    // SIGTERM once the first batch is answered: the burst is under way, not refused outright.
    await Promise.race(burst);
    expect(await ll.stopProc(ll.apis[0], 'SIGTERM')).toBe(0);
    const answers = await Promise.all(burst);
    const accepted = answers.filter((a) => a?.status === 202).flatMap((a) => a!.body.ids);
    // A test that passes when every request is refused proves nothing: some batches got in.
    expect(accepted.length).toBeGreaterThanOrEqual(50);
    const [{ n }] = await ll.sql('SELECT count(*)::int AS n FROM events WHERE id = ANY($1)', [
      accepted,
    ]);
    expect(n).toBe(accepted.length);
    for (const a of answers) if (a) expect([202, 503]).toContain(a.status);
    expect(ll.logs()).not.toMatch(/"level":(50|60)/);
  });
});
