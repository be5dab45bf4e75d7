import { ExpiringMemo } from './expiring-memo';

describe('ExpiringMemo (the console verify, L5; endpoint snapshots)', () => {
  it('runs one verification per key within the window, shared by concurrent requests', async () => {
    let now = 0;
    let runs = 0;
    const cache = new ExpiringMemo<number>(() => now, 10_000);
    const verify = () => Promise.resolve(++runs);
    const burst = await Promise.all(Array.from({ length: 50 }, () => cache.get('t1:main', verify)));
    expect(new Set(burst)).toEqual(new Set([1]));
    now = 9_999;
    expect(await cache.get('t1:main', verify)).toBe(1);
    expect(await cache.get('t2:main', verify)).toBe(2); // another tenant: its own run
    now = 10_000;
    expect(await cache.get('t1:main', verify)).toBe(3);
    expect(runs).toBe(3);
  });

  it('does not keep a failed run', async () => {
    const cache = new ExpiringMemo<number>(() => 0, 10_000);
    await expect(cache.get('k', () => Promise.reject(new Error('db down')))).rejects.toThrow();
    await new Promise((r) => setImmediate(r));
    expect(await cache.get('k', () => Promise.resolve(7))).toBe(7);
  });
});
