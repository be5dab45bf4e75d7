import { Ledgerline, Tenant, event, waitFor } from './support/ledgerline';
import { WebhookReceiver } from './support/webhook-receiver';

/** Refused at creation (and on PATCH) with 422 unsafe_url while http and private ranges are off. */
const UNSAFE: [string, string][] = [
  ['cloud metadata over https', 'https://169.254.169.254/latest/meta-data/'],
  ['cloud metadata over http', 'http://169.254.169.254/latest/meta-data/'],
  ['link-local IPv4', 'https://169.254.10.20/hook'],
  ['RFC 1918 10/8', 'https://10.0.0.1/hook'],
  ['RFC 1918 10/8 top', 'https://10.255.255.254/hook'],
  ['RFC 1918 172.16/12', 'https://172.16.0.1/hook'],
  ['RFC 1918 172.16/12 top', 'https://172.31.255.254/hook'],
  ['RFC 1918 192.168/16', 'https://192.168.1.1:8443/hook'],
  ['CGNAT 100.64/10', 'https://100.64.0.1/hook'],
  ['CGNAT 100.64/10 top', 'https://100.127.255.254/hook'],
  ['loopback', 'https://127.0.0.1/hook'],
  ['loopback elsewhere in 127/8', 'https://127.1.2.3/hook'],
  ['IPv6 loopback', 'https://[::1]/hook'],
  ['IPv6 link-local', 'https://[fe80::1]/hook'],
  ['IPv6 unique-local fc00::/7', 'https://[fc00::1]/hook'],
  ['IPv6 unique-local fd00::/8', 'https://[fd12:3456::1]/hook'],
  ['IPv4-mapped loopback', 'https://[::ffff:127.0.0.1]/hook'],
  ['IPv4-mapped loopback, hex form', 'https://[::ffff:7f00:1]/hook'],
  ['IPv4-mapped metadata', 'https://[::ffff:169.254.169.254]/hook'],
  ['IPv4-mapped private', 'https://[::ffff:10.0.0.1]/hook'],
  ['IPv4-compatible loopback', 'https://[::127.0.0.1]/hook'],
  ['NAT64 loopback', 'https://[64:ff9b::7f00:1]/hook'],
  ['6to4 loopback', 'https://[2002:7f00:1::]/hook'],
  ['hex/short IPv4 loopback', 'https://0x7f.1/hook'],
  ['decimal IPv4 loopback', 'https://2130706433/hook'],
  ['octal IPv4 loopback', 'https://0177.0.0.1/hook'],
  ['localhost', 'https://localhost/hook'],
  ['localhost, upper case, with port', 'https://LOCALHOST:8443/hook'],
  ['0.0.0.0', 'https://0.0.0.0/hook'],
  ['0.0.0.0/8', 'https://0.1.2.3/hook'],
  ['IPv6 unspecified', 'https://[::]/hook'],
  ['IPv4 multicast', 'https://224.0.0.1/hook'],
  ['IPv4 multicast SSDP', 'https://239.255.255.250/hook'],
  ['IPv6 multicast', 'https://[ff02::1]/hook'],
  ['broadcast', 'https://255.255.255.255/hook'],
  ['reserved 240/4', 'https://240.0.0.1/hook'],
  ['TEST-NET documentation range', 'https://192.0.2.1/hook'],
  ['benchmarking 198.18/15', 'https://198.18.0.1/hook'],
  ['IPv6 documentation range', 'https://[2001:db8::1]/hook'],
  ['IPv6 site-local (deprecated)', 'https://[fec0::1]/hook'],
  ['a name that does not resolve', 'https://no-such-host.invalid/hook'],
  ['ftp scheme', 'ftp://93.184.216.34/hook'],
  ['file scheme', 'file:///etc/passwd'],
  ['gopher scheme', 'gopher://93.184.216.34:70/_hook'],
  ['data scheme', 'data:text/plain,hello'],
  ['javascript scheme', 'javascript:alert(1)'],
  ['ws scheme', 'ws://93.184.216.34/hook'],
  ['credentials', 'https://user:pass@example.com/hook'],
  ['user name only, public IP', 'https://user@93.184.216.34/hook'],
  ['http while WEBHOOK_ALLOW_HTTP is off', 'http://93.184.216.34/hook'],
];

/** Not an absolute URL: 400 validation_failed. */
const INVALID: [string, unknown][] = [
  ['prose', 'not a url'],
  ['relative path', '/relative'],
  ['empty string', ''],
  ['blank', '   '],
  ['no scheme', 'example.com/hook'],
  ['scheme without host', 'https://'],
  ['missing colon', 'https//93.184.216.34/hook'],
  ['a number', 42],
  ['null', null],
  ['too long', `https://93.184.216.34/${'a'.repeat(2100)}`],
];

async function endpointCount(ll: Ledgerline): Promise<number> {
  return (await ll.sql('SELECT count(*)::int AS n FROM webhook_endpoints'))[0].n;
}

describe('webhook SSRF guard (https only, no private ranges)', () => {
  let ll: Ledgerline;
  let acme: Tenant;

  beforeAll(async () => {
    ll = await Ledgerline.start({
      env: { WEBHOOK_RETRY_SCHEDULE: '200ms', WEBHOOK_TIMEOUT_MS: '1000' },
    });
    acme = await ll.createTenant('acme');
  });
  afterAll(() => ll?.stop());

  const create = (url: unknown) =>
    ll.request('POST', '/v1/webhooks/endpoints', {
      key: acme.apiKey,
      body: { url, eventTypes: ['invoice.*'] },
    });

  it('has a table of at least 25 unsafe URLs', () => {
    expect(UNSAFE.length).toBeGreaterThanOrEqual(25);
  });

  it.each(UNSAFE)('refuses %s (%s) with 422 unsafe_url', async (_name, url) => {
    const before = await endpointCount(ll);
    const res = await create(url);
    expect({ url, status: res.status, code: res.body?.code }).toEqual({
      url,
      status: 422,
      code: 'unsafe_url',
    });
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 422, title: expect.any(String) });
    expect(await endpointCount(ll)).toBe(before);
  });

  it.each(INVALID)('answers 400 validation_failed for %s', async (_name, url) => {
    const res = await create(url);
    expect({ url, status: res.status, code: res.body?.code }).toEqual({
      url,
      status: 400,
      code: 'validation_failed',
    });
    expect(res.body.errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: 'url' })]),
    );
  });

  it('accepts public IP literals, and refuses every unsafe URL on PATCH too', async () => {
    const v4 = await create('https://93.184.216.34/hook');
    expect(v4.status).toBe(201);
    expect(v4.body.url).toBe('https://93.184.216.34/hook');
    const v6 = await create('https://[2606:2800:220:1:248:1893:25c8:1946]/hook');
    expect(v6.status).toBe(201);
    for (const [, url] of UNSAFE) {
      const res = await ll.request('PATCH', `/v1/webhooks/endpoints/${v4.body.id}`, {
        key: acme.apiKey,
        body: { url },
      });
      expect({ url, status: res.status, code: res.body?.code }).toEqual({
        url,
        status: 422,
        code: 'unsafe_url',
      });
    }
    const view = await ll.request('GET', `/v1/webhooks/endpoints/${v4.body.id}`, {
      key: acme.apiKey,
    });
    expect(view.body.url).toBe('https://93.184.216.34/hook');
  });

  it('records an unreachable destination as a failed attempt without a 500 or a crash', async () => {
    const ep = await ll.request('POST', '/v1/webhooks/endpoints', {
      key: acme.apiKey,
      body: { url: 'https://93.184.216.34/unreachable', eventTypes: ['unreachable.*'] },
    });
    expect(ep.status).toBe(201);
    const published = await ll.request('POST', '/v1/events', {
      key: acme.apiKey,
      body: event({ type: 'unreachable.event' }),
    });
    expect(published.status).toBe(202);
    const delivery = await waitFor('the delivery to fail', async () => {
      const res = await ll.request(
        'GET',
        `/v1/webhooks/endpoints/${ep.body.id}/deliveries?status=failed`,
        { key: acme.apiKey },
      );
      expect(res.status).toBe(200);
      return res.body.data.find((d: { eventId: string }) => d.eventId === published.body.id);
    });
    expect(delivery.attempts).toHaveLength(2);
    for (const attempt of delivery.attempts) {
      expect(attempt.statusCode).toBeNull();
      expect(attempt.error).toEqual(expect.any(String));
      expect(attempt.error).not.toBe('blocked_destination');
    }
    const view = await ll.request('GET', `/v1/events/${published.body.id}`, { key: acme.apiKey });
    expect(view.body.deliveries).toEqual({ pending: 0, succeeded: 0, failed: 1 });
    for (const p of [...ll.apis, ...ll.workers]) {
      expect(p.child.exitCode).toBeNull();
      expect(p.child.signalCode).toBeNull();
    }
    expect((await fetch(`${ll.baseUrl}/readyz`)).status).toBe(200);
  });
});

describe('webhook SSRF guard with WEBHOOK_ALLOW_HTTP and WEBHOOK_ALLOWED_CIDRS', () => {
  let ll: Ledgerline;
  let acme: Tenant;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    ll = await Ledgerline.start({
      env: {
        WEBHOOK_ALLOW_HTTP: 'true',
        WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32,169.254.0.0/16',
        WEBHOOK_RETRY_SCHEDULE: '200ms',
      },
    });
    acme = await ll.createTenant('acme');
  });
  afterAll(async () => {
    await ll?.stop();
    await receiver?.close();
  });

  const create = (url: string, eventTypes = ['invoice.*']) =>
    ll.request('POST', '/v1/webhooks/endpoints', {
      key: acme.apiKey,
      body: { url, eventTypes },
    });

  it.each([
    ['http to an allowed CIDR', () => receiver.url('/hook')],
    ['a name resolving into an allowed CIDR', () => `http://localhost:${receiver.port}/hook`],
    ['IPv4-mapped form of an allowed address', () => `http://[::ffff:127.0.0.1]:1/hook`],
    ['link-local inside an allowed CIDR', () => 'http://169.254.1.1/hook'],
  ])('accepts %s', async (_name, url) => {
    const res = await create(url());
    expect({ url: url(), status: res.status }).toEqual({ url: url(), status: 201 });
  });

  it.each([
    ['cloud metadata even inside an allowed CIDR', 'http://169.254.169.254/latest/meta-data/'],
    ['IPv4-mapped metadata', 'http://[::ffff:169.254.169.254]/'],
    ['loopback outside the allowed /32', 'http://127.0.0.2/hook'],
    ['IPv6 loopback', 'http://[::1]/hook'],
    ['private range not allowed', 'http://10.0.0.1/hook'],
    ['0.0.0.0', 'http://0.0.0.0/hook'],
    ['other schemes', 'ftp://127.0.0.1/hook'],
    ['credentials', 'http://user:pass@127.0.0.1/hook'],
  ])('still refuses %s', async (_name, url) => {
    const res = await create(url);
    expect({ url, status: res.status, code: res.body?.code }).toEqual({
      url,
      status: 422,
      code: 'unsafe_url',
    });
  });

  it('checks again at delivery: a worker without the allowance records blocked_destination', async () => {
    const ep = await create(receiver.url('/blocked'), ['blocked.*']);
    expect(ep.status).toBe(201);
    for (const w of ll.workers) await ll.stopProc(w);
    const strict = await ll.startWorker({ WEBHOOK_ALLOWED_CIDRS: '' });
    const published = await ll.request('POST', '/v1/events', {
      key: acme.apiKey,
      body: event({ type: 'blocked.event' }),
    });
    const delivery = await waitFor('the delivery to fail', async () => {
      const res = await ll.request(
        'GET',
        `/v1/webhooks/endpoints/${ep.body.id}/deliveries?status=failed`,
        { key: acme.apiKey },
      );
      return res.body.data.find((d: { eventId: string }) => d.eventId === published.body.id);
    });
    expect(delivery.attempts.length).toBeGreaterThan(0);
    for (const attempt of delivery.attempts) {
      expect(attempt).toMatchObject({ statusCode: null, error: 'blocked_destination' });
    }
    expect(receiver.received('/blocked')).toHaveLength(0);
    expect(strict.child.exitCode).toBeNull();
  });
});
