import { SharedCounterStore, WindowCounter } from './window-counter';

/** An in-memory stand-in for Redis: per-key totals with an expiry, and a switch to break it. */
class MemoryStore implements SharedCounterStore {
  calls = 0;
  down = false;
  private readonly keys = new Map<string, { total: number; endsAt: number }>();
  constructor(private readonly now: () => number) {}

  add(key: string, n: number, windowMs: number) {
    this.calls++;
    if (this.down) return Promise.reject(new Error('connection refused'));
    let k = this.keys.get(key);
    if (!k || k.endsAt <= this.now()) k = { total: 0, endsAt: this.now() + windowMs };
    k.total += n;
    this.keys.set(key, k);
    return Promise.resolve({ total: k.total, msLeft: k.endsAt - this.now() });
  }
}

describe('WindowCounter', () => {
  let now = 1_000_000;
  const clock = () => now;
  const counters: WindowCounter[] = [];
  const counter = (store: SharedCounterStore, limit: number) => {
    const c = new WindowCounter(store, limit, 1000, 0, clock);
    counters.push(c);
    return c;
  };
  const burst = async (c: WindowCounter, n: number, key = 'k') =>
    (await Promise.all(Array.from({ length: n }, () => c.consume(key)))).filter((a) => a.allowed)
      .length;

  afterEach(() => counters.splice(0).forEach((c) => c.close()));

  it('admits far below the limit without a store round trip, and flushes the counts later', async () => {
    const store = new MemoryStore(clock);
    const c = counter(store, 1000);
    expect(await c.consume('k')).toEqual({ allowed: true }); // the window's first asks the store
    expect(await burst(c, 100)).toBe(100);
    expect(store.calls).toBe(1);
    await c.flush();
    expect(store.calls).toBe(2);
    expect((await store.add('k', 0, 1000)).total).toBe(101);
  });

  it('lets exactly the limit through a burst on one replica, and says when to retry', async () => {
    const c = counter(new MemoryStore(clock), 5);
    const answers = await Promise.all(Array.from({ length: 12 }, () => c.consume('k')));
    expect(answers.filter((a) => a.allowed)).toHaveLength(5);
    const refused = answers.find((a) => !a.allowed);
    expect(refused).toEqual({ allowed: false, msBeforeNext: 1000 });
  });

  it('holds the limit across two replicas sharing the store', async () => {
    const store = new MemoryStore(clock);
    const a = counter(store, 40);
    const b = counter(store, 40);
    const admitted = await Promise.all([burst(a, 50), burst(b, 50)]);
    expect(admitted[0] + admitted[1]).toBe(40);
  });

  it('starts a replica from the shared total: a key spent on one is refused on the other', async () => {
    const store = new MemoryStore(clock);
    const a = counter(store, 40);
    const b = counter(store, 40);
    expect(await burst(a, 50)).toBe(40);
    expect(await b.consume('k')).toEqual({ allowed: false, msBeforeNext: 1000 });
  });

  it('stays within the stated tolerance when two replicas take a burst in one flush interval', async () => {
    const store = new MemoryStore(clock);
    const a = counter(store, 400);
    const b = counter(store, 400);
    await Promise.all([a.consume('k'), b.consume('k')]); // both have met the key
    const admitted = await Promise.all([burst(a, 500), burst(b, 500)]);
    expect(admitted[0] + admitted[1]).toBeLessThanOrEqual(400 - 2 + 400 / 4);
    expect(admitted[0] + admitted[1]).toBeGreaterThanOrEqual(400 - 2);
  });

  it('learns the other replicas counts at each flush and stops short of the limit', async () => {
    const store = new MemoryStore(clock);
    const a = counter(store, 100);
    const b = counter(store, 100);
    expect(await burst(a, 60)).toBe(60);
    await a.flush();
    expect(await burst(b, 100)).toBe(40);
  });

  it('opens a new window when the last one ends', async () => {
    const c = counter(new MemoryStore(clock), 3);
    expect(await burst(c, 5)).toBe(3);
    now += 1001;
    expect(await burst(c, 5)).toBe(3);
  });

  it('keeps each key apart', async () => {
    const c = counter(new MemoryStore(clock), 3);
    expect(await burst(c, 5, 'x')).toBe(3);
    expect(await burst(c, 5, 'y')).toBe(3);
  });

  it('enforces the limit alone while the store is down, and keeps the counts for later', async () => {
    const store = new MemoryStore(clock);
    const c = counter(store, 10);
    store.down = true;
    expect(await burst(c, 15)).toBe(10);
    store.down = false;
    await c.flush();
    expect((await store.add('k', 0, 1000)).total).toBe(10);
  });
});
