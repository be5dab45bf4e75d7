import { loginOriginAllowed } from './auth.controller';

describe('login CSRF: where a sign-in may come from', () => {
  const base = 'https://ledgerline.example.com';
  const allowed = (h: Record<string, string>) => loginOriginAllowed(h, base);

  it('takes same-origin (or typed) browser requests and non-browser clients', () => {
    expect(allowed({ 'sec-fetch-site': 'same-origin' })).toBe(true);
    expect(allowed({ 'sec-fetch-site': 'none' })).toBe(true);
    expect(allowed({})).toBe(true);
    expect(allowed({ origin: base, host: 'internal:3000' })).toBe(true);
    expect(allowed({ origin: 'http://127.0.0.1:4000', host: '127.0.0.1:4000' })).toBe(true);
  });

  it('refuses a sign-in posted from another site', () => {
    expect(allowed({ 'sec-fetch-site': 'cross-site', origin: base })).toBe(false);
    expect(allowed({ 'sec-fetch-site': 'same-site' })).toBe(false);
    expect(allowed({ origin: 'https://evil.example', host: 'ledgerline.example.com' })).toBe(false);
    expect(allowed({ origin: 'null', host: 'ledgerline.example.com' })).toBe(false);
    expect(loginOriginAllowed({ origin: 'https://evil.example' }, undefined)).toBe(false);
  });
});
