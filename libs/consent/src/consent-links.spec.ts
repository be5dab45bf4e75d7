import { ConsentLinks } from './consent-links';

const KEY = Buffer.alloc(32, 7).toString('base64');
const links = () =>
  new ConsentLinks(
    { secretBox: { seal: (s: string) => s, open: (s: string) => s } } as never,
    {
      insertIfAbsent: async () => undefined,
      find: async () => ({ purpose: 'consent_links', sealedPrivateKey: KEY, publicKeyPem: '' }),
    } as never,
    { PUBLIC_BASE_URL: 'https://ll.example/', PORT: 3000 } as never,
  );

const T = '0195f1a2-7c3e-7a10-9b2c-1d2e3f405162';
const C = '0195f1a2-7c3e-7a10-9b2c-1d2e3f405163';
const L = '0195f1a2-7c3e-7a10-9b2c-1d2e3f405164';
const NOW = Date.parse('2026-06-01T00:00:00Z');

describe('ConsentLinks', () => {
  it('round-trips its claims in a token short enough for one path segment', async () => {
    const l = links();
    const token = await l.sign({
      kind: 'c',
      tenantId: T,
      contactId: C,
      logId: L,
      expiresAt: NOW / 1000 + 60,
    });
    expect(token.length).toBeLessThanOrEqual(100);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    await expect(l.verify(token, ['c'], NOW)).resolves.toEqual({
      kind: 'c',
      tenantId: T,
      contactId: C,
      logId: L,
      expiresAt: NOW / 1000 + 60,
    });
    expect(l.baseUrl()).toBe('https://ll.example');
  });

  it('refuses a tampered, expired or wrong-kind token', async () => {
    const l = links();
    const token = await l.sign({
      kind: 'p',
      tenantId: T,
      contactId: C,
      expiresAt: NOW / 1000 + 60,
    });
    const [payload, mac] = token.split('.');
    const flipped = Buffer.from(payload, 'base64url');
    flipped[20] ^= 1;
    await expect(
      l.verify(`${flipped.toString('base64url')}.${mac}`, ['p'], NOW),
    ).resolves.toBeNull();
    await expect(l.verify(`${payload}.${mac.slice(1)}A`, ['p'], NOW)).resolves.toBeNull();
    await expect(l.verify(token, ['p'], NOW + 61000)).resolves.toBeNull();
    await expect(l.verify(token, ['u', 'c'], NOW)).resolves.toBeNull();
    await expect(l.verify('junk', ['p'], NOW)).resolves.toBeNull();
    await expect(l.verify('a.b.c', ['p'], NOW)).resolves.toBeNull();
  });
});
