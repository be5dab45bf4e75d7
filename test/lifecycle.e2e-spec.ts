import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Ledgerline, Tenant, event, waitFor } from './support/ledgerline';

const run = promisify(execFile);
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
  });

  it('limits requests per key with 429 and Retry-After', async () => {
    const answers = await Promise.all(
      Array.from({ length: 12 }, () =>
        ll.request('POST', '/v1/events', { key: acme.apiKey, body: event() }),
      ),
    );
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0].headers.get('retry-after')).toMatch(/^\d+$/);
    expect(limited[0].body.code).toBe('rate_limited');
  });

  it('limits unauthenticated requests per IP but never the probes', async () => {
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => ll.request('POST', '/v1/events', { body: event() })),
    );
    expect(answers.some((a) => a.status === 429)).toBe(true);
    const probes = await Promise.all(
      Array.from({ length: 10 }, () => ll.request('GET', '/readyz')),
    );
    expect(probes.every((p) => p.status === 200)).toBe(true);
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
    const inflight = ll
      .request('POST', '/v1/events', { key: acme.apiKey, body: event() })
      .catch(() => null);
    expect(await ll.stopProc(api, 'SIGTERM')).toBe(0);
    await inflight;
    expect(await ll.stopProc(worker, 'SIGTERM')).toBe(0);
    await waitFor(
      'exit',
      async () => api.child.exitCode !== null && worker.child.exitCode !== null,
    );
  });
});
