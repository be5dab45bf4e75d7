import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Ledgerline } from './support/ledgerline';

const run = promisify(execFile);
const API = join(__dirname, '..', 'dist/apps/api/apps/api/src/main.js');

describe('behind a load balancer (TRUST_PROXY)', () => {
  let ll: Ledgerline;
  let direct: number;

  beforeAll(async () => {
    ll = await Ledgerline.start({
      workers: 0,
      env: {
        TRUST_PROXY: '127.0.0.1/32',
        METRICS_ALLOWED_CIDRS: '203.0.113.0/24',
        RATE_LIMIT_PER_IP: '3',
      },
    });
    // The same API without a trusted proxy: X-Forwarded-For means nothing to it.
    direct = await ll.startApi({ TRUST_PROXY: '' });
  });
  afterAll(() => ll.stop());

  const metrics = (forwardedFor: string | undefined, port = ll.apis[0].port) =>
    ll.request('GET', '/metrics', {
      base: `http://127.0.0.1:${port}`,
      headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {},
    });

  it('lets METRICS_ALLOWED_CIDRS see the client behind a trusted proxy, not the proxy', async () => {
    expect((await metrics('203.0.113.7')).status).toBe(200);
    expect((await metrics('198.51.100.7')).status).toBe(401);
    expect((await metrics(undefined)).status).toBe(401);
    // A client cannot claim an address to a server that trusts no proxy.
    expect((await metrics('203.0.113.7', direct)).status).toBe(401);
  });

  it('limits each client behind the proxy on its own', async () => {
    const hit = (ip: string) =>
      ll.request('GET', '/v1/events/00000000-0000-0000-0000-000000000000', {
        headers: { 'x-forwarded-for': ip },
      });
    await new Promise((r) => setTimeout(r, 1100));
    const first = [];
    for (let i = 0; i < 5; i++) first.push((await hit('198.51.100.1')).status);
    expect(first.slice(0, 3)).toEqual([401, 401, 401]);
    expect(first.slice(3)).toEqual([429, 429]);
    expect((await hit('198.51.100.2')).status).toBe(401);
  });

  it('refuses to start with an invalid CIDR and names the setting', async () => {
    for (const name of ['TRUST_PROXY', 'METRICS_ALLOWED_CIDRS', 'WEBHOOK_ALLOWED_CIDRS']) {
      const failed = await run(process.execPath, [API], {
        env: { ...ll.env, PORT: '0', [name]: '10.0.0.0/8,300.1.1.1/99' },
      }).catch((e: { code: number; stderr: string }) => e);
      expect([name, (failed as { code: number }).code]).toEqual([name, 1]);
      expect((failed as { stderr: string }).stderr).toContain(
        `${name}: must be a comma-separated list`,
      );
      expect((failed as { stderr: string }).stderr).toContain('"300.1.1.1/99" is not one');
    }
  });
});
