import { Client } from 'pg';
import { DomainError } from '@app/platform';
import { ApiKeyService, IdentityModule, TenantService } from '@app/identity';
import { EventStore } from '@app/events';
import { MediumApp } from './support/medium-app';
import { factories } from './support/factories';

describe('identity (medium: services on real PostgreSQL)', () => {
  let m: MediumApp;
  let make: ReturnType<typeof factories>;

  beforeAll(async () => {
    m = await MediumApp.start([IdentityModule]);
    make = factories(m);
  });
  afterAll(() => m?.stop());

  const eventsOf = async (tenantId: string) =>
    (await m.get(EventStore).readAfter(m.db, tenantId, 0, 100)).map((e) => [e.position, e.type]);

  it('creates a tenant with an all-scope admin key, both recorded as events in order', async () => {
    const { tenantId, apiKey } = await make.tenant();
    expect(apiKey.key).toMatch(/^ll_/);
    expect(apiKey.scopes).toContain('admin');
    expect(await eventsOf(tenantId)).toEqual([
      [1, 'tenant.created'],
      [2, 'api_key.created'],
    ]);
    const [row] = await m.db.query<{ key_hash: Buffer; prefix: string }>(
      'SELECT key_hash, prefix FROM api_keys WHERE tenant_id = $1',
      [tenantId],
    );
    expect(row.key_hash).toHaveLength(32);
    expect(apiKey.key.startsWith(`ll_${row.prefix}_`)).toBe(true);
    expect(JSON.stringify(row)).not.toContain(apiKey.key);
  });

  it('authenticates a key, and refuses a forged key with the same prefix and a revoked one', async () => {
    const tenant = await make.tenant();
    const created = await make.apiKey(tenant, ['events:write'], 'publisher');
    const keys = m.get(ApiKeyService);
    const auth = await keys.authenticate(created.key);
    expect(auth).toEqual({
      tenantId: tenant.tenantId,
      keyId: created.id,
      scopes: new Set(['events:write']),
    });
    const forged = created.key.slice(0, -4) + (created.key.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect(await keys.authenticate(forged)).toBeNull();
    expect(await keys.authenticate('not a key')).toBeNull();
    await keys.revoke(tenant.auth, created.id);
    expect(await keys.authenticate(created.key)).toBeNull();
    expect((await eventsOf(tenant.tenantId)).at(-1)).toEqual([4, 'api_key.revoked']);
  });

  it("answers 404 for another tenant's key and revokes nothing", async () => {
    const a = await make.tenant('a');
    const b = await make.tenant('b');
    const bKey = await make.apiKey(b, ['events:read']);
    await expect(m.get(ApiKeyService).revoke(a.auth, bKey.id)).rejects.toMatchObject({
      status: 404,
    } satisfies Partial<DomainError>);
    expect(await m.get(ApiKeyService).authenticate(bKey.key)).not.toBeNull();
  });

  it('creates the first tenant once when several starters race', async () => {
    const fresh = await MediumApp.start([IdentityModule]);
    try {
      const tenants = fresh.get(TenantService);
      const made = await Promise.all(Array.from({ length: 6 }, () => tenants.createFirst('first')));
      expect(made.filter(Boolean)).toHaveLength(1);
      expect(await fresh.db.query('SELECT id FROM tenants')).toHaveLength(1);
    } finally {
      await fresh.stop();
    }
  });

  it('wakes the relay once the key is committed, never for work that rolled back', async () => {
    const tenant = await make.tenant();
    const listener = new Client({ connectionString: m.dbUrl });
    await listener.connect();
    const notes: string[] = [];
    listener.on('notification', (n) => notes.push(n.channel));
    await listener.query('LISTEN ledgerline_events');
    try {
      await expect(
        m.db.transaction(async (tx) => {
          await m.get(ApiKeyService).createIn(tx, tenant.tenantId, 'x', ['events:read'], {
            type: 'system',
            id: 'test',
          });
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      await new Promise((r) => setTimeout(r, 200));
      expect(notes).toEqual([]);
      await make.apiKey(tenant, ['events:read']);
      const deadline = Date.now() + 5000;
      while (!notes.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(notes).toEqual(['ledgerline_events']);
    } finally {
      await listener.end();
    }
  });
});
