import { EventsModule, EventStore } from '@app/events';
import { IdentityModule } from '@app/identity';
import { MediumApp } from './support/medium-app';
import { factories } from './support/factories';

describe('event store (medium: real PostgreSQL)', () => {
  let m: MediumApp;
  let make: ReturnType<typeof factories>;

  beforeAll(async () => {
    m = await MediumApp.start([EventsModule, IdentityModule]);
    make = factories(m);
  });
  afterAll(() => m?.stop());

  it('numbers each tenant gaplessly in commit order when two tenants append at once', async () => {
    const a = await make.tenant('a');
    const b = await make.tenant('b');
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => make.events(i % 2 ? a.tenantId : b.tenantId, 5)),
    );
    for (const tenantId of [a.tenantId, b.tenantId]) {
      const stored = await m.get(EventStore).readAfter(m.db, tenantId, 0, 1000);
      expect(stored.map((e) => e.position)).toEqual(Array.from({ length: 52 }, (_, i) => i + 1));
    }
  });

  it('numbers interleaved tenants in one append, and joined encodings, in the order given', async () => {
    const a = await make.tenant('a');
    const b = await make.tenant('b');
    const store = m.get(EventStore);
    const [a1, b1, a2, b2, a3, a4, b3, a5] = [a, b, a, b, a, a, b, a].map((t) =>
      make.event(t.tenantId),
    );
    await m.db.transaction((tx) => store.append(tx, [a1, b1, a2, b2, a3]));
    await m.db.transaction((tx) =>
      store.appendEncoded(tx, [store.encode([a4, b3]), store.encode([a5])]),
    );
    // Each tenant's own events (created with it) come first: these follow them, gapless.
    const order = async (tenantId: string, n: number) => {
      const stored = await store.readAfter(m.db, tenantId, 0, 100);
      const mine = stored.slice(-n);
      expect(mine.map((e) => e.position)).toEqual(
        Array.from({ length: n }, (_, i) => stored.length - n + i + 1),
      );
      return mine.map((e) => e.id);
    };
    expect(await order(a.tenantId, 5)).toEqual([a1, a2, a3, a4, a5].map((e) => e.id));
    expect(await order(b.tenantId, 3)).toEqual([b1, b2, b3].map((e) => e.id));
  });

  it('stores data exactly as given and reads it back by id, only within its tenant', async () => {
    const a = await make.tenant('a');
    const b = await make.tenant('b');
    const data = { constructor: 1, toString: 'x', nested: { valueOf: [1, 2] }, n: -0.5 };
    const [event] = await make.events(a.tenantId, 1, { data });
    const store = m.get(EventStore);
    expect((await store.findById(a.tenantId, event.id))?.data).toEqual(data);
    expect(await store.findById(b.tenantId, event.id)).toBeNull();
  });
});
