import { IdGenerator, UUID_PATTERN } from './clock';

/** The 48-bit millisecond timestamp of a UUIDv7. */
function stampOf(id: string): number {
  return parseInt(id.replace('-', '').slice(0, 12), 16);
}

describe('IdGenerator', () => {
  it('makes distinct, well-formed UUIDv7 ids stamped with the current time', () => {
    const ids = new IdGenerator();
    const made = Array.from({ length: 1000 }, () => ids.next());
    expect(new Set(made).size).toBe(1000);
    for (const id of made) {
      expect(id).toMatch(UUID_PATTERN);
      expect(id[14]).toBe('7');
      expect('89ab').toContain(id[19]);
    }
    const before = Date.now();
    const stamped = stampOf(ids.next());
    expect(stamped).toBeGreaterThanOrEqual(before);
    expect(stamped).toBeLessThanOrEqual(Date.now());
  });

  it('makes time-ordered ids: every id sorts after the one before, within a millisecond too', () => {
    const ids = new IdGenerator();
    // Thousands of ids share each millisecond: their order must not depend on random bits.
    const made = Array.from({ length: 5000 }, () => ids.next());
    const outOfOrder = made.findIndex((id, i) => i > 0 && !(made[i - 1] < id));
    expect(outOfOrder).toBe(-1);
    expect(new Set(made.map(stampOf)).size).toBeLessThan(made.length);
  });

  it('stays ordered when the wall clock steps back', () => {
    const realNow = Date.now;
    let now = 1_800_000_000_000;
    Date.now = () => now;
    try {
      const ids = new IdGenerator();
      const first = ids.next();
      now -= 5_000;
      const second = ids.next();
      expect(second > first).toBe(true);
    } finally {
      Date.now = realNow;
    }
  });
});
