import { IdGenerator, UUID_PATTERN } from './clock';

describe('IdGenerator', () => {
  it('makes distinct, time-ordered UUIDv7 ids', () => {
    const ids = new IdGenerator();
    const made = Array.from({ length: 1000 }, () => ids.next());
    expect(new Set(made).size).toBe(1000);
    for (const id of made) {
      expect(id).toMatch(UUID_PATTERN);
      expect(id[14]).toBe('7');
      expect('89ab').toContain(id[19]);
    }
    const before = Date.now();
    const stamped = parseInt(ids.next().replace('-', '').slice(0, 12), 16);
    expect(stamped).toBeGreaterThanOrEqual(before);
    expect(stamped).toBeLessThanOrEqual(Date.now());
    const later = ids.next();
    expect(later.slice(0, 13) >= made[0].slice(0, 13)).toBe(true);
  });
});
