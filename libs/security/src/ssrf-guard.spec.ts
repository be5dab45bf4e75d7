import { SecurityError } from './security-error';
import { SsrfGuard, SsrfGuardOptions } from './ssrf-guard';

const DNS: Record<string, string[]> = {
  'example.com': ['93.184.216.34'],
  'dual.example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
  localhost: ['127.0.0.1', '::1'],
  'mixed.example.com': ['93.184.216.34', '10.0.0.5'],
  'mapped.example.com': ['::ffff:169.254.169.254'],
  'metadata.example.com': ['169.254.169.254'],
  'v6private.example.com': ['fd00:ec2::254'],
  'empty.example.com': [],
  x: ['93.184.216.34'],
};

const lookupCalls: string[] = [];
async function stubLookup(host: string): Promise<string[]> {
  lookupCalls.push(host);
  const found = DNS[host];
  if (found === undefined) {
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  }
  return found;
}

function guard(opts: Partial<SsrfGuardOptions> = {}): SsrfGuard {
  return new SsrfGuard({ allowHttp: false, allowedCidrs: [], lookup: stubLookup, ...opts });
}

async function rejection(promise: Promise<unknown>): Promise<SecurityError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(SecurityError);
    return err as SecurityError;
  }
  throw new Error('expected a rejection');
}

describe('SsrfGuard', () => {
  beforeEach(() => {
    lookupCalls.length = 0;
  });

  describe('WHATWG URL normalisation of IPv4 literals (relied upon by check)', () => {
    it.each([
      ['https://0x7f.1/', '127.0.0.1'],
      ['https://2130706433/', '127.0.0.1'],
      ['https://0177.0.0.1/', '127.0.0.1'],
      ['https://127.1/', '127.0.0.1'],
      ['https://0x7f000001/', '127.0.0.1'],
      ['https://[::ffff:127.0.0.1]/', '[::ffff:7f00:1]'],
    ])('%s has hostname %s', (raw, hostname) => {
      expect(new URL(raw).hostname).toBe(hostname);
    });
  });

  describe('refused destinations', () => {
    it.each([
      ['http://169.254.169.254/latest/meta-data', { allowHttp: true }],
      ['https://169.254.169.254/latest/meta-data', {}],
      ['https://10.0.0.1', {}],
      ['https://172.16.5.4', {}],
      ['https://172.31.255.255', {}],
      ['https://192.168.1.1', {}],
      ['https://100.64.0.1', {}],
      ['https://127.0.0.1', {}],
      ['https://127.255.0.9:8443/x', {}],
      ['https://[::1]', {}],
      ['https://[fe80::1]', {}],
      ['https://[fc00::1]', {}],
      ['https://[fd12::1]', {}],
      ['https://[::ffff:127.0.0.1]', {}],
      ['https://[::ffff:7f00:1]', {}],
      ['https://[::ffff:a9fe:a9fe]', {}],
      ['https://[::ffff:10.1.2.3]', {}],
      ['https://[::127.0.0.1]', {}],
      ['https://[64:ff9b::7f00:1]', {}],
      ['https://[2002:7f00:1::1]', {}],
      ['https://[2001::1]', {}],
      ['https://[ff02::1]', {}],
      ['https://[fec0::1]', {}],
      ['https://[2001:db8::1]', {}],
      ['https://0x7f.1', {}],
      ['https://2130706433', {}],
      ['https://0177.0.0.1', {}],
      ['https://0.0.0.0', {}],
      ['https://0.1.2.3', {}],
      ['https://224.0.0.1', {}],
      ['https://255.255.255.255', {}],
      ['https://240.0.0.1', {}],
      ['https://[::]', {}],
      ['https://198.18.0.1', {}],
      ['https://192.0.0.1', {}],
      ['https://192.0.2.10', {}],
      ['https://localhost', {}],
      ['https://localhost:3000/hook', {}],
      ['https://mixed.example.com/hook', {}],
      ['https://mapped.example.com', {}],
      ['https://metadata.example.com', {}],
      ['https://v6private.example.com', {}],
      ['https://empty.example.com', {}],
      ['https://does-not-exist.example', {}],
      ['ftp://example.com', {}],
      ['file:///etc/passwd', {}],
      ['gopher://x', {}],
      ['javascript:alert(1)', {}],
      ['https://user:pass@example.com', {}],
      ['https://user@example.com', {}],
      ['https://:pass@example.com', {}],
      ['http://example.com', {}],
      ['http://127.0.0.1:8080', { allowHttp: true }],
      ['https://127.0.0.2', { allowedCidrs: ['127.0.0.1/32'] }],
      ['https://169.254.169.254', { allowedCidrs: ['169.254.0.0/16'] }],
    ] as Array<[string, Partial<SsrfGuardOptions>]>)('%s is unsafe_url (%j)', async (raw, opts) => {
      const err = await rejection(guard(opts).check(raw));
      expect(err.code).toBe('unsafe_url');
      expect(err.status).toBe(422);
    });

    it('names the refused address class', async () => {
      await expect(guard().check('https://localhost')).rejects.toThrow(/loopback/);
      await expect(guard().check('https://10.0.0.1')).rejects.toThrow(/private/);
      await expect(guard().check('https://mixed.example.com')).rejects.toThrow(
        /private.*10\.0\.0\.5/,
      );
      await expect(guard().check('https://100.64.0.1')).rejects.toThrow(/carrierGradeNat/);
      await expect(guard().check('https://[fe80::1]')).rejects.toThrow(/linkLocal/);
      await expect(guard().check('https://169.254.169.254')).rejects.toThrow(/metadata/);
    });

    it('does not resolve IP literals', async () => {
      await rejection(guard().check('https://2130706433'));
      await rejection(guard().check('https://[::1]'));
      expect(lookupCalls).toEqual([]);
    });
  });

  describe('allowed destinations', () => {
    it('accepts a public host name and returns the checked addresses', async () => {
      const dest = await guard().check('https://example.com/hooks?x=1');
      expect(dest.host).toBe('example.com');
      expect(dest.addresses).toEqual(['93.184.216.34']);
      expect(dest.url.href).toBe('https://example.com/hooks?x=1');
      expect(lookupCalls).toEqual(['example.com']);
    });

    it('accepts a host whose IPv4 and IPv6 addresses are all public', async () => {
      const dest = await guard().check('https://dual.example.com');
      expect(dest.addresses).toEqual(['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946']);
    });

    it('accepts a public IPv6 literal without brackets in host', async () => {
      const dest = await guard().check('https://[2606:4700::1111]/x');
      expect(dest.host).toBe('2606:4700::1111');
      expect(dest.addresses).toEqual(['2606:4700::1111']);
      expect(lookupCalls).toEqual([]);
    });

    it('accepts a public IPv4 literal', async () => {
      const dest = await guard().check('https://1.1.1.1');
      expect(dest.addresses).toEqual(['1.1.1.1']);
    });

    it('accepts http and an allowed CIDR when configured', async () => {
      const g = guard({ allowHttp: true, allowedCidrs: ['127.0.0.1/32'] });
      const dest = await g.check('http://127.0.0.1:8080');
      expect(dest.addresses).toEqual(['127.0.0.1']);
      expect(dest.url.port).toBe('8080');
      await expect(g.check('http://[::ffff:127.0.0.1]:8080/x')).resolves.toMatchObject({
        addresses: ['::ffff:7f00:1'],
      });
      await expect(g.check('https://localhost')).rejects.toThrow(/::1/);
    });

    it('accepts private ranges opened by allowedCidrs, including IPv6 and mapped forms', async () => {
      const g = guard({ allowedCidrs: ['10.0.0.0/8', 'fd00::/8', '::ffff:192.168.0.0/112'] });
      await expect(g.check('https://mixed.example.com')).resolves.toMatchObject({
        addresses: ['93.184.216.34', '10.0.0.5'],
      });
      await expect(g.check('https://[fd12::1]')).resolves.toMatchObject({
        host: 'fd12::1',
        addresses: ['fd12::1'],
      });
      await expect(g.check('https://192.168.4.4')).resolves.toMatchObject({
        host: '192.168.4.4',
        addresses: ['192.168.4.4'],
      });
      // Public, so allowed whatever the CIDRs; next to 192.168.0.0/16 to catch an off-by-one.
      await expect(g.check('https://192.169.4.4')).resolves.toMatchObject({
        host: '192.169.4.4',
        addresses: ['192.169.4.4'],
      });
      // Opening fd00::/8 opens no other private IPv6 range.
      await expect(g.check('https://[fe80::1]')).rejects.toThrow(SecurityError);
      await expect(g.check('https://172.16.0.1')).rejects.toThrow(SecurityError);
    });
  });

  describe('not a URL', () => {
    it.each([
      'not a url',
      '/relative',
      '',
      'example.com/path',
      '//example.com/x',
      'https://',
      'http://[::1',
    ])('%j is validation_failed 400', async (raw) => {
      const err = await rejection(guard().check(raw));
      expect(err.code).toBe('validation_failed');
      expect(err.status).toBe(400);
      expect(() => guard().parse(raw)).toThrow(SecurityError);
    });
  });

  describe('parse', () => {
    it('returns the URL for valid https URLs without resolving', () => {
      expect(guard().parse('https://example.com/a').hostname).toBe('example.com');
      expect(lookupCalls).toEqual([]);
    });

    it('refuses http unless allowHttp', () => {
      expect(() => guard().parse('http://example.com')).toThrow(/https/);
      expect(guard({ allowHttp: true }).parse('http://example.com').protocol).toBe('http:');
    });
  });

  describe('isAllowedAddress', () => {
    const g = guard();
    it.each([
      ['93.184.216.34', true],
      ['8.8.8.8', true],
      ['2606:4700::1111', true],
      ['2a00:1450:4001:82b::200e', true],
      ['127.0.0.1', false],
      ['0.0.0.0', false],
      ['0.255.1.1', false],
      ['169.254.169.254', false],
      ['169.254.1.1', false],
      ['10.1.2.3', false],
      ['172.20.0.1', false],
      ['192.168.0.1', false],
      ['100.127.255.254', false],
      ['224.0.0.251', false],
      ['255.255.255.255', false],
      ['192.0.2.1', false],
      ['198.51.100.1', false],
      ['203.0.113.1', false],
      ['::', false],
      ['::1', false],
      ['[::1]', false],
      ['fe80::1%eth0', false],
      ['fc00::1', false],
      ['fd00:ec2::254', false],
      ['ff02::1', false],
      ['::ffff:127.0.0.1', false],
      ['::ffff:7f00:1', false],
      ['::ffff:8.8.8.8', true],
      ['::7f00:1', false],
      ['::ffff:0:7f00:1', false],
      ['64:ff9b::808:808', false],
      ['2002:c000:0204::1', false],
      ['2001:0:4136:e378:8000:63bf:3fff:fdd2', false],
      ['2001:2::1', false],
      ['100::1', false],
      ['0x7f.1', false],
      ['2130706433', false],
      ['localhost', false],
      ['', false],
      ['1.2.3.4.5', false],
    ])('%s -> %s', (ip, expected) => {
      expect(g.isAllowedAddress(ip)).toBe(expected);
    });

    it('gives the same verdicts from its kept ones, and after they were emptied', () => {
      const kept = guard();
      const verdicts = () =>
        ['8.8.8.8', '127.0.0.1', '::ffff:7f00:1'].map((ip) => kept.isAllowedAddress(ip));
      expect(verdicts()).toEqual([true, false, false]);
      expect(verdicts()).toEqual([true, false, false]);
      for (let i = 0; i < 10001; i++) kept.isAllowedAddress(`8.8.${i >> 8}.${i & 255}`);
      expect(verdicts()).toEqual([true, false, false]);
    });

    it('opens exactly the configured CIDRs', () => {
      const open = guard({ allowedCidrs: ['127.0.0.1/32', '::1/128'] });
      expect(open.isAllowedAddress('127.0.0.1')).toBe(true);
      expect(open.isAllowedAddress('::ffff:127.0.0.1')).toBe(true);
      expect(open.isAllowedAddress('::1')).toBe(true);
      expect(open.isAllowedAddress('127.0.0.2')).toBe(false);
      expect(open.isAllowedAddress('0.0.0.0')).toBe(false);
    });

    it('never opens 0.0.0.0/8 or the metadata address', () => {
      const open = guard({ allowedCidrs: ['0.0.0.0/0'] });
      expect(open.isAllowedAddress('10.0.0.1')).toBe(true);
      expect(open.isAllowedAddress('0.0.0.0')).toBe(false);
      expect(open.isAllowedAddress('169.254.169.254')).toBe(false);
      expect(open.isAllowedAddress('::ffff:169.254.169.254')).toBe(false);
    });

    it('rejects invalid CIDRs at construction', () => {
      expect(() => guard({ allowedCidrs: ['not-a-cidr'] })).toThrow(/allowedCidrs/);
      expect(() => guard({ allowedCidrs: ['127.0.0.1'] })).toThrow(/allowedCidrs/);
      expect(() => guard({ allowedCidrs: [''] })).not.toThrow();
    });
  });
});
