import fc from 'fast-check';
import { createUser, login } from './support/console-session';
import { FuzzRequest, fuzzRequest } from './support/fuzz-requests';
import { Ledgerline, Tenant, event, waitFor } from './support/ledgerline';

// Replay a failure with FUZZ_SEED=<seed> (and FUZZ_RUNS=<n> to change the count).
const SEED = process.env.FUZZ_SEED
  ? Number(process.env.FUZZ_SEED)
  : Math.floor(Math.random() * 2 ** 31);
const RUNS = Number(process.env.FUZZ_RUNS || 3000);
const CONCURRENCY = 8;

interface Fixtures {
  own: Record<string, string>;
  other: Record<string, string>;
}

interface Outcome {
  index: number;
  request: FuzzRequest;
  status: number;
  contentType: string;
  body: unknown;
  text: string;
  retryAfter: string | null;
}

const describeRequest = (o: Outcome) =>
  JSON.stringify({
    index: o.index,
    route: o.request.route,
    method: o.request.method,
    path: o.request.path.slice(0, 200),
    query: o.request.query.slice(0, 200),
    headers: o.request.headers,
    body: o.request.body?.slice(0, 300),
    status: o.status,
    answer: o.text.slice(0, 300),
  });

/**
 * The 503s (with Retry-After) a caller may see: load shedding of exports and verifies, which are
 * capped per process (the fuzz sends several at once). Any other 503 fails this test. They are
 * counted and printed.
 */
const SHEDDING_ROUTES = new Set(['audit export', 'audit verify']);
const shed: string[] = [];
function shedding(o: Outcome): boolean {
  if (!SHEDDING_ROUTES.has(o.request.route)) return false;
  shed.push(o.request.route);
  return true;
}

/** What is wrong with an answer, or null. */
function fault(o: Outcome): string | null {
  if (o.status >= 500 && !(o.status === 503 && o.retryAfter !== null && shedding(o))) {
    return `a ${o.status}`;
  }
  if (o.request.foreign && o.status < 300) return `another tenant's resource answered ${o.status}`;
  if (o.status < 400) return null;
  if (!o.contentType.startsWith('application/problem+json'))
    return `a ${o.status} without problem+json`;
  const p = o.body as Record<string, unknown> | undefined;
  if (!p || typeof p !== 'object') return 'a problem that is not a JSON object';
  for (const key of ['type', 'title', 'detail', 'code']) {
    if (typeof p[key] !== 'string') return `a problem without ${key}`;
  }
  if (p.status !== o.status) return 'a problem whose status differs from the answer';
  if (p.code === 'validation_failed') {
    const errors = p.errors as { field?: unknown; message?: unknown }[] | undefined;
    if (!Array.isArray(errors) || !errors.length || errors.length > 20) {
      return 'a validation failure without 1-20 errors';
    }
    if (errors.some((e) => typeof e.field !== 'string' || typeof e.message !== 'string')) {
      return 'a validation error without field and message';
    }
  }
  return null;
}

describe('fuzzing every route', () => {
  let ll: Ledgerline;
  let acme: Tenant;
  let globex: Tenant;
  const fixtures: Fixtures = { own: {}, other: {} };

  async function seed(tenant: Tenant, into: Record<string, string>): Promise<void> {
    const key = tenant.apiKey;
    const ev = await ll.request('POST', '/v1/events', { key, body: event() });
    const ep = await ll.request('POST', '/v1/webhooks/endpoints', {
      key,
      body: { url: 'http://127.0.0.1:9/hook', eventTypes: ['*'] },
    });
    const spareEndpoint = await ll.request('POST', '/v1/webhooks/endpoints', {
      key,
      body: { url: 'http://127.0.0.1:9/spare', eventTypes: ['spare.*'] },
    });
    const spare = await ll.request('POST', '/v1/api-keys', {
      key,
      body: { name: 'spare', scopes: ['events:read'] },
    });
    expect([ev.status, ep.status, spareEndpoint.status, spare.status]).toEqual([
      202, 201, 201, 201,
    ]);
    const aiAction = await ll.request('POST', '/v1/ai-actions', {
      key,
      body: { type: 'crm.update', initiator: 'autonomous', agent: { id: 'agent-1' }, input: {} },
    });
    expect(aiAction.status).toBe(201);
    const contact = await ll.request('POST', '/v1/contacts', {
      key,
      body: { externalId: `fuzz-${tenant.tenantId}`, email: 'fuzz@example.com' },
    });
    const msg = await ll.request('POST', '/v1/messages', {
      key,
      body: { contactId: contact.body.id, channel: 'email', category: 'marketing', body: 'x' },
    });
    const link = await ll.request('POST', `/v1/contacts/${contact.body.id}/preference-links`, {
      key,
    });
    expect([contact.status, msg.status, link.status]).toEqual([201, 202, 201]);
    await ll.request('POST', '/v1/events', { key, body: event() });
    const delivery = await waitFor('a delivery', async () => {
      const page = await ll.request('GET', `/v1/webhooks/endpoints/${ep.body.id}/deliveries`, {
        key,
      });
      return page.body?.data?.[0]?.id as string | undefined;
    });
    Object.assign(into, {
      tenant: tenant.tenantId,
      event: ev.body.id,
      endpoint: ep.body.id,
      spareEndpoint: spareEndpoint.body.id,
      apiKey: spare.body.id,
      aiAction: aiAction.body.id,
      contact: contact.body.id,
      message: msg.body.id,
      // A link is its own credential (no tenant): another tenant's would work, so the
      // foreign fixture is a link that was never signed.
      link: into === fixtures.own ? (link.body.url as string).split('/').pop() : 'AAAA.BBBB',
      delivery,
    });
  }

  beforeAll(async () => {
    ll = await Ledgerline.start({
      workers: 1,
      env: {
        WEBHOOK_ALLOW_HTTP: 'true',
        WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32',
        WEBHOOK_RETRY_SCHEDULE: '1h',
        WEBHOOK_TIMEOUT_MS: '500',
      },
    });
    acme = await ll.createTenant('acme');
    globex = await ll.createTenant('globex');
    await seed(acme, fixtures.own);
    await seed(globex, fixtures.other);
    // A signed-in owner of acme for the console routes (cookie and CSRF token).
    const owner = await createUser(ll, acme.tenantId, 'owner');
    const session = await login(ll, owner.email, owner.password);
    Object.assign(fixtures.own, { email: owner.email, cookie: session.cookie, csrf: session.csrf });
  });
  afterAll(() => ll.stop());

  // Placeholders appear as written or URL-encoded (in queries and form bodies).
  const fill = (text: string) =>
    text.replace(
      /(?:\{|%7B)(own|other)\.(\w+)(?:\}|%7D)/g,
      (_, who: 'own' | 'other', what: string) => {
        return fixtures[who][what] ?? '';
      },
    );

  async function send(index: number, request: FuzzRequest): Promise<Outcome> {
    const headers: Record<string, string> = request.session
      ? { cookie: fixtures.own.cookie }
      : { authorization: `Bearer ${acme.apiKey}` };
    if (request.body !== undefined) {
      headers['content-type'] = request.contentType ?? 'application/json';
    }
    for (const [k, v] of Object.entries(request.headers)) headers[k] = fill(v);
    const path = fill(request.path) + (request.query ? `?${request.query}` : '');
    const res = await fetch(`${ll.baseUrl}${path}`, {
      method: request.method,
      headers,
      body: request.body === undefined ? undefined : fill(request.body),
      redirect: 'manual',
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return {
      index,
      request,
      status: res.status,
      contentType: res.headers.get('content-type') ?? '',
      body,
      text,
      retryAfter: res.headers.get('retry-after'),
    };
  }

  it(`answers ${RUNS} mutated requests without a 5xx, every 4xx as problem+json`, async () => {
    process.stdout.write(`fuzz: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}\n`);
    const requests = fc.sample(fuzzRequest, { seed: SEED, numRuns: RUNS });
    const faults: string[] = [];
    const statuses = new Map<number, number>();
    const byRoute: Record<string, Record<number, number>> = {};
    let next = 0;
    const workers = Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests.length) {
        const index = next++;
        const outcome = await send(index, requests[index]).catch((err: Error): Outcome => ({
          index,
          request: requests[index],
          status: 599,
          contentType: '',
          body: undefined,
          text: `no answer: ${err.message}`,
          retryAfter: null,
        }));
        statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
        const perRoute = (byRoute[outcome.request.route] ??= {});
        perRoute[outcome.status] = (perRoute[outcome.status] ?? 0) + 1;
        if (process.env.FUZZ_VERBOSE === outcome.request.route) {
          process.stdout.write(`fuzz: ${describeRequest(outcome)}\n`);
        }
        const wrong = fault(outcome);
        if (wrong) faults.push(`${wrong}: ${describeRequest(outcome)}`);
      }
    });
    await Promise.all(workers);
    process.stdout.write(`fuzz: statuses ${JSON.stringify(Object.fromEntries(statuses))}\n`);
    if (shed.length) process.stdout.write(`fuzz: 503 with Retry-After on ${shed.join(', ')}\n`);
    if (process.env.FUZZ_VERBOSE) process.stdout.write(`fuzz: ${JSON.stringify(byRoute)}\n`);
    expect({ seed: SEED, faults: faults.slice(0, 20), count: faults.length }).toEqual({
      seed: SEED,
      faults: [],
      count: 0,
    });
    // The mix reached the routes, not only the edge: successes and validation failures both.
    expect(statuses.get(400) ?? 0).toBeGreaterThan(RUNS / 20);
    expect([200, 201, 202].reduce((n, s) => n + (statuses.get(s) ?? 0), 0)).toBeGreaterThan(
      RUNS / 20,
    );
  });

  it('is still ready and serving afterwards', async () => {
    const ready = await ll.request('GET', '/readyz');
    expect(ready.status).toBe(200);
    const res = await ll.request('POST', '/v1/events', { key: acme.apiKey, body: event() });
    expect(res.status).toBe(202);
    expect(ll.apis[0].child.exitCode).toBe(null);
  });
});
