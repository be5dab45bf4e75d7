import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Ledgerline, Tenant, event, waitFor } from './support/ledgerline';

const run = promisify(execFile);

/** A POST whose headers go out now and whose body goes out on finish(). */
function inFlightRequest(port: number, key: string, body: string) {
  let finish!: () => void;
  let started!: () => void;
  const startedP = new Promise<void>((r) => (started = r));
  const answer = new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/events',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.flushHeaders();
    req.write(body.slice(0, 10), () => started());
    finish = () => req.end(body.slice(10));
  });
  return { started: startedP, answer, finish: () => finish() };
}
const ROOT = join(__dirname, '..');

describe('operating Ledgerline', () => {
  let ll: Ledgerline;
  let acme: Tenant;

  beforeAll(async () => {
    ll = await Ledgerline.start({
      workers: 1,
      env: {
        RATE_LIMIT_PER_KEY: '5',
        RATE_LIMIT_PER_IP: '3',
        METRICS_ALLOWED_CIDRS: '127.0.0.1/32',
      },
    });
    acme = await ll.createTenant('acme');
  });
  afterAll(() => ll.stop());

  it('refuses to start with a malformed setting and names it', async () => {
    const main = join(ROOT, 'dist/apps/api/apps/api/src/main.js');
    const failed = await run(process.execPath, [main], {
      env: { ...ll.env, PORT: 'eighty' },
    }).catch((e) => e);
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain('PORT');
    const prod = await run(process.execPath, [main], {
      env: { ...ll.env, NODE_ENV: 'production' },
    }).catch((e) => e);
    expect(prod.code).not.toBe(0);
    expect(prod.stderr).toContain('LEDGERLINE_MASTER_KEY');
    // The master key alone is not enough: production also needs the signing key.
    const unsigned = await run(process.execPath, [main], {
      env: { ...ll.env, NODE_ENV: 'production', LEDGERLINE_MASTER_KEY: 'k'.repeat(44) },
    }).catch((e) => e);
    expect(unsigned.code).not.toBe(0);
    expect(unsigned.stderr).toContain('LEDGERLINE_SIGNING_KEY: required');
    expect(unsigned.stderr).not.toContain('LEDGERLINE_MASTER_KEY: required');
  });

  it('limits requests per key with 429 and Retry-After', async () => {
    const answers = await Promise.all(
      Array.from({ length: 12 }, () =>
        ll.request('POST', '/v1/events', { key: acme.apiKey, body: event() }),
      ),
    );
    // RATE_LIMIT_PER_KEY=5: the window opens with the first request, so of 12 sent at once
    // exactly 5 pass and 7 are limited; a second key of the same tenant has a budget of its own.
    const limited = answers.filter((a) => a.status === 429);
    expect(answers.filter((a) => a.status === 202)).toHaveLength(5);
    expect(limited).toHaveLength(7);
    expect(limited[0].headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(limited[0].body.code).toBe('rate_limited');
    const other = JSON.parse(
      await ll.cli('key', 'create', '--tenant', acme.tenantId, '--scopes', 'events:write'),
    ) as { key: string };
    const fresh = await ll.request('POST', '/v1/events', { key: other.key, body: event() });
    expect(fresh.status).toBe(202);
  });

  it('limits unauthenticated requests per IP but never the probes', async () => {
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => ll.request('POST', '/v1/events', { body: event() })),
    );
    // RATE_LIMIT_PER_IP=3: at most 3 reach the guard (401); the rest are limited.
    expect(answers.filter((a) => a.status === 401).length).toBeLessThanOrEqual(3);
    expect(answers.filter((a) => a.status === 429).length).toBeGreaterThanOrEqual(7);
    const probes = await Promise.all(
      Array.from({ length: 10 }, () => ll.request('GET', '/readyz')),
    );
    expect(probes.every((p) => p.status === 200)).toBe(true);
  });

  it('limits failed keys per IP too, as problem+json', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        ll.request('POST', '/v1/events', {
          key: `ll_unknown${i}_${'x'.repeat(32)}`,
          body: event(),
        }),
      ),
    );
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(5);
    expect(answers.every((a) => [401, 429].includes(a.status))).toBe(true);
    expect(limited[0].body.code).toBe('rate_limited');
    expect(limited[0].headers.get('content-type')).toContain('application/problem+json');
  });

  it('answers readiness with check names and states only', async () => {
    const ready = await ll.request('GET', '/readyz');
    expect(ready.body).toEqual({
      status: 'ok',
      checks: { postgres: 'ok', redis: 'ok', migrations: 'ok' },
    });
  });

  it('logs each answer with request id and tenant id, and no key or personal data', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const port = await ll.startApi({ LOG_LEVEL: 'debug' });
    const api = ll.apis.find((a) => a.port === port)!;
    const base = `http://127.0.0.1:${port}`;
    const pii = { email: 'jane.doe@example.com', phone: '+1 415 555 0142' };
    const ok = await ll.request('POST', '/v1/events', {
      base,
      key: acme.apiKey,
      body: event({ data: { contact: pii.email, phone: pii.phone } }),
    });
    expect(ok.status).toBe(202);
    const bad = await ll.request('POST', '/v1/events', {
      base,
      key: acme.apiKey,
      body: event({ type: pii.email, data: { phone: pii.phone } }),
    });
    expect(bad.status).toBe(400);
    await new Promise((r) => setTimeout(r, 1100));
    const refused = await ll.request('POST', '/v1/events', {
      base,
      headers: { 'x-api-key': `${acme.apiKey}x` },
      body: event({ subject: pii.email }),
    });
    expect(refused.status).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
    const output = api.output.join('');
    const lines = output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const answered = (res: { headers: Headers }) =>
      lines.find((l) => l.msg === 'answered' && l.reqId === res.headers.get('x-request-id'));
    expect(answered(ok)).toMatchObject({ status: 202, tenantId: acme.tenantId });
    expect(answered(bad)).toMatchObject({ status: 400, tenantId: acme.tenantId });
    expect(answered(refused)).toMatchObject({ status: 401 });
    expect(output).not.toContain(acme.apiKey);
    expect(output).not.toContain(pii.email);
    expect(output).not.toContain('555 0142');
    await ll.stopProc(api, 'SIGTERM');
  });

  it('serves /metrics without a key to METRICS_ALLOWED_CIDRS', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const res = await ll.request('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.text).toContain('ledgerline_http_requests_total');
  });

  it('logs JSON lines without keys or secrets', async () => {
    const logs = ll.logs();
    expect(logs).not.toContain(acme.apiKey);
  });

  it('drains and exits 0 on SIGTERM (API and worker)', async () => {
    const [api] = ll.apis;
    const [worker] = ll.workers;
    await new Promise((r) => setTimeout(r, 1100));
    // The request is on the wire before SIGTERM: headers sent, the body still to come.
    const body = JSON.stringify(event({ subject: 'in-flight' }));
    const inflight = inFlightRequest(api.port, acme.apiKey, body);
    await inflight.started;
    await new Promise((r) => setTimeout(r, 100));
    const exited = ll.stopProc(api, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    inflight.finish();
    const answer = await inflight.answer;
    expect(answer.status).toBe(202);
    const [row] = await ll.sql('SELECT subject FROM events WHERE id = $1', [answer.body.id]);
    expect(row).toEqual({ subject: 'in-flight' });
    expect(await exited).toBe(0);
    expect(await ll.stopProc(worker, 'SIGTERM')).toBe(0);
    await waitFor(
      'exit',
      async () => api.child.exitCode !== null && worker.child.exitCode !== null,
    );
  });
});
