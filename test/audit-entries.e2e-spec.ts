import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditClient } from './support/audit-api';
import { ENTRY_KEYS, HEX64, ZERO_HASH, entryHash } from './support/audit-chain';
import { Ledgerline, Tenant, event, waitFor } from './support/ledgerline';

/** What goes into a tenant's chain and how it is read: PII redacted, entries numbered and linked, the entries list with its filters and cursor, each tenant seeing only its own. */
describe('audit: entries', () => {
  let ll: Ledgerline;
  let dir: string;
  let audit: AuditClient;

  /** A tenant of its own for every group of tests, created up front (the CLI is slow to start). */
  const tenants: Record<string, Tenant> = {};
  const tenantNames = ['pii', 'structure', 'lister', 'iso-a', 'iso-b'];

  beforeAll(async () => {
    ll = await Ledgerline.start({ env: { AUDIT_CHECKPOINT_INTERVAL_MS: '500' } });
    dir = mkdtempSync(join(tmpdir(), 'audit-entries-'));
    audit = new AuditClient(ll, dir);
    const created = await Promise.all(tenantNames.map((n) => ll.createTenant(n)));
    tenantNames.forEach((n, i) => (tenants[n] = created[i]));
  });
  afterAll(async () => {
    await ll?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('PII redaction', () => {
    let t: Tenant;
    let id: string;
    let seq: number;
    const raw = {
      customer: {
        email: 'alice.pii@example.com',
        phone: '+44 20 7946 0958',
        ssn: '123-45-6789',
      },
      contacts: [
        'bob.pii@example.org',
        { card: '4111 1111 1111 1111', kind: 'visa' },
        ['call +44 20 7946 0958 today', 'ssn 123-45-6789'],
      ],
      deep: { a: { b: { c: ['carol.pii@example.net', 'pan 4111-1111-1111-1111 exp 12/28'] } } },
      note: 'Mail dave.pii@example.io or ring +44 20 7946 0958; card 4111111111111111',
      amount: 1200,
      orderId: 'ORD-2026-000123',
      occurred: '2026-11-22T10:00:00Z',
    };
    const redacted = {
      customer: { email: '[redacted:email]', phone: '[redacted:phone]', ssn: '[redacted:ssn]' },
      contacts: [
        '[redacted:email]',
        { card: '[redacted:pan]', kind: 'visa' },
        ['call [redacted:phone] today', 'ssn [redacted:ssn]'],
      ],
      deep: { a: { b: { c: ['[redacted:email]', 'pan [redacted:pan] exp 12/28'] } } },
      note: 'Mail [redacted:email] or ring [redacted:phone]; card [redacted:pan]',
      amount: 1200,
      orderId: 'ORD-2026-000123',
      occurred: '2026-11-22T10:00:00Z',
    };
    const secrets = [
      'alice.pii@example.com',
      'bob.pii@example.org',
      'carol.pii@example.net',
      'dave.pii@example.io',
      '+44 20 7946 0958',
      '7946 0958',
      '123-45-6789',
      '4111 1111 1111 1111',
      '4111-1111-1111-1111',
      '4111111111111111',
    ];

    beforeAll(async () => {
      t = tenants['pii'];
      id = await audit.publish(t, event({ type: 'customer.updated', data: raw }));
      seq = await audit.auditedSeq(t, id);
    });

    it('shows the redacted copy in the entries API', async () => {
      const one = await audit.get(t, `/v1/audit/entries/${seq}?chain=main`);
      expect(one.status).toBe(200);
      expect(one.body).toMatchObject({ seq, chain: 'main', eventId: id, type: 'customer.updated' });
      expect(one.body.data).toEqual(redacted);
      const listed = await audit.get(t, '/v1/audit/entries?type=customer.updated');
      expect(listed.body.data).toHaveLength(1);
      expect(listed.body.data[0]).toEqual(one.body);
      const exported = await audit.get(t, '/v1/audit/export');
      for (const s of secrets) expect(exported.text).not.toContain(s);
    });

    it('never writes the raw PII to the audit table', async () => {
      const rows = await ll.sql<{ data: string; row: string }>(
        'SELECT data::text AS data, a::text AS row FROM audit_entries a',
      );
      expect(rows.length).toBeGreaterThan(0);
      const all = rows.map((r) => `${r.data}\n${r.row}`).join('\n');
      for (const s of secrets) expect(all).not.toContain(s);
      expect(all).toContain('[redacted:email]');
      expect(all).toContain('[redacted:phone]');
      expect(all).toContain('[redacted:ssn]');
      expect(all).toContain('[redacted:pan]');
    });

    it('keeps the raw data on the event itself', async () => {
      const res = await audit.get(t, `/v1/events/${id}`);
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual(raw);
      expect(res.body.audit).toEqual({ chain: 'main', seq });
    });
  });

  describe('chain structure', () => {
    let t: Tenant;

    beforeAll(async () => {
      t = tenants['structure'];
      await audit.publishBatch(t, [
        event({ subject: 'invoice/1' }),
        event({ subject: 'invoice/2', actingAsTenantId: t.tenantId }),
      ]);
      await audit.publish(t, {
        type: 'user.signed_up',
        actor: { type: 'service', id: 'svc' },
        data: {},
      });
      const key = await ll.request('POST', '/v1/api-keys', {
        key: t.apiKey,
        body: { name: 'reader', scopes: ['audit:read'] },
      });
      expect(key.status).toBe(201);
      await audit.caughtUp(t);
    });

    it('numbers entries 1..n without gaps and links each to the one before', async () => {
      const newestFirst = await audit.allEntries(t);
      const entries = [...newestFirst].reverse();
      expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
      expect(entries[0].prevHash).toBe(ZERO_HASH);
      entries.forEach((e, i) => {
        expect(Object.keys(e).sort()).toEqual(ENTRY_KEYS);
        expect(e.hash).toMatch(HEX64);
        expect(e.chain).toBe('main');
        expect(e.tenantId).toBe(t.tenantId);
        expect(e.occurredAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        expect(e.recordedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        if (i > 0) expect(e.prevHash).toBe(entries[i - 1].hash);
        expect(entryHash(e)).toBe(e.hash);
      });
      // absent optional fields are null, never missing
      const signedUp = entries.find((e) => e.type === 'user.signed_up');
      expect(signedUp.subject).toBeNull();
      expect(signedUp.actingAsTenantId).toBeNull();
      expect(entries.find((e) => e.subject === 'invoice/2').actingAsTenantId).toBe(t.tenantId);
    });

    it("records Ledgerline's own events (tenant.created, api_key.created)", async () => {
      const entries = (await audit.allEntries(t)).reverse();
      expect(entries.map((e) => e.type)).toEqual([
        'tenant.created',
        'api_key.created',
        'invoice.paid',
        'invoice.paid',
        'user.signed_up',
        'api_key.created',
      ]);
      const own = await ll.sql<{ id: string }>(
        `SELECT id FROM events WHERE tenant_id = $1 AND type IN ('tenant.created', 'api_key.created')
         ORDER BY position`,
        [t.tenantId],
      );
      expect(own).toHaveLength(3);
      for (const { id } of own) {
        const res = await audit.get(t, `/v1/events/${id}`);
        expect(res.body.audit).toEqual({ chain: 'main', seq: expect.any(Number) });
      }
    });

    it('puts audit.checkpoint events in no chain', async () => {
      const [cp] = await waitFor('an audit.checkpoint event', async () => {
        const rows = await ll.sql<{ id: string; position: string }>(
          `SELECT id, position FROM events WHERE tenant_id = $1 AND type = 'audit.checkpoint'`,
          [t.tenantId],
        );
        return rows.length > 0 && rows;
      });
      // the audit consumer has read past the checkpoint event...
      await waitFor('audit cursor past the checkpoint event', async () => {
        const [c] = await ll.sql<{ position: string }>(
          `SELECT position FROM stream_cursors WHERE tenant_id = $1 AND consumer = 'audit'`,
          [t.tenantId],
        );
        return c && Number(c.position) >= Number(cp.position);
      });
      // ...and chained nothing for it
      const chained = await ll.sql(
        `SELECT seq FROM audit_entries WHERE type = 'audit.checkpoint' OR event_id = $1`,
        [cp.id],
      );
      expect(chained).toEqual([]);
      const res = await audit.get(t, `/v1/events/${cp.id}`);
      expect(res.status).toBe(200);
      expect(res.body.type).toBe('audit.checkpoint');
      expect(res.body.audit).toBeNull();
      expect(await audit.caughtUp(t)).toBe(6);
      const listed = await audit.get(t, '/v1/audit/entries?type=audit.checkpoint');
      expect(listed.body.data).toEqual([]);
    });

    it('answers verify with exactly {ok, chain, entries, head}', async () => {
      const entries = await audit.allEntries(t);
      const res = await audit.get(t, '/v1/audit/verify?chain=main');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        ok: true,
        chain: 'main',
        entries: 6,
        head: { seq: 6, hash: entries[0].hash },
      });
      expect(Object.keys(res.body).sort()).toEqual(['chain', 'entries', 'head', 'ok']);
      expect(Object.keys(res.body.head).sort()).toEqual(['hash', 'seq']);
      const byDefault = await audit.get(t, '/v1/audit/verify');
      expect(byDefault.body).toEqual(res.body);
    });
  });

  describe('entries list', () => {
    let t: Tenant;
    let ids: string[];
    const types = ['order.created', 'order.shipped', 'invoice.paid'];
    const specs = Array.from({ length: 12 }, (_, i) => ({
      type: types[i % 3],
      actor: { type: 'user', id: i % 2 ? 'u_odd' : 'u_even' },
      subject: `order/${i % 4} & more`,
      occurredAt: `2020-01-${String(i + 1).padStart(2, '0')}T00:00:00.000Z`,
      data: { i },
    }));
    const expectIds = (entries: any[], pick: (i: number) => boolean) =>
      expect(entries.map((e) => e.eventId)).toEqual(
        ids.filter((_, i) => pick(i)).reverse(), // newest first
      );

    beforeAll(async () => {
      t = tenants['lister'];
      ids = await audit.publishBatch(t, specs);
      expect(await audit.caughtUp(t)).toBe(14);
    });

    it('lists newest first with the default limit', async () => {
      const res = await audit.get(t, '/v1/audit/entries');
      expect(res.status).toBe(200);
      expect(res.body.nextCursor).toBeNull();
      expect(res.body.data.map((e: any) => e.seq)).toEqual([
        14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1,
      ]);
      expectIds(res.body.data.slice(0, 12), () => true);
    });

    it('filters by type, actorId, subject and occurredAt range', async () => {
      const q = async (qs: string) => {
        const res = await audit.get(t, `/v1/audit/entries?${qs}`);
        expect(res.status).toBe(200);
        return res.body.data as any[];
      };
      expectIds(await q('type=order.created'), (i) => i % 3 === 0);
      expectIds(await q('actorId=u_odd'), (i) => i % 2 === 1);
      expectIds(await q(`subject=${encodeURIComponent('order/1 & more')}`), (i) => i % 4 === 1);
      expectIds(
        await q('from=2020-01-05T00:00:00.000Z&to=2020-01-08T00:00:00.000Z'),
        (i) => i + 1 >= 5 && i + 1 < 8,
      );
      // from alone: the three last published and Ledgerline's own (occurred now)
      expect((await q('from=2020-01-10T00:00:00Z')).map((e) => e.seq)).toEqual([14, 13, 12, 2, 1]);
      expectIds(
        await q('type=order.created&actorId=u_odd&to=2020-01-31T00:00:00Z'),
        (i) => i % 3 === 0 && i % 2 === 1,
      );
      expect(await q('type=nothing.here')).toEqual([]);
      expect(await q('actorId=u_nobody')).toEqual([]);
    });

    it('pages with a cursor: every entry once, no duplicates', async () => {
      for (const limit of [1, 3, 5, 14, 500]) {
        const walked = await audit.allEntries(t, '', limit);
        const seqs = walked.map((e) => e.seq);
        expect(new Set(seqs).size).toBe(seqs.length);
        expect(seqs).toEqual([14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
      }
      const filtered = await audit.allEntries(t, 'actorId=u_even', 2);
      expectIds(filtered, (i) => i % 2 === 0);
    });

    it('gets one entry by seq, 404 for an unknown one', async () => {
      const listed = (await audit.get(t, '/v1/audit/entries?limit=1')).body.data[0];
      const one = await audit.get(t, `/v1/audit/entries/${listed.seq}`);
      expect(one.status).toBe(200);
      expect(one.body).toEqual(listed);
      expect((await audit.get(t, `/v1/audit/entries/${listed.seq}?chain=main`)).body).toEqual(
        listed,
      );
      for (const seq of ['15', '999999', '0', 'abc', '-1', '1.5']) {
        const res = await audit.get(t, `/v1/audit/entries/${seq}`);
        expect(res.status).toBe(404);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
      }
    });

    it.each([
      ['limit=0'],
      ['limit=501'],
      ['limit=abc'],
      ['limit=-1'],
      ['cursor=garbage'],
      [`cursor=${Buffer.from('{"seq":"x"}').toString('base64url')}`],
      [`cursor=${Buffer.from('[1]').toString('base64url')}`],
      ['from=yesterday'],
      ['chain=bogus'],
    ])('answers 400 validation_failed for entries?%s', async (qs) => {
      const res = await audit.get(t, `/v1/audit/entries?${qs}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.code).toBe('validation_failed');
    });

    it('answers 400 validation_failed for an unknown chain on verify, export and checkpoints', async () => {
      for (const path of [
        '/v1/audit/verify?chain=bogus',
        '/v1/audit/export?chain=bogus',
        '/v1/audit/checkpoints?chain=bogus',
        '/v1/audit/entries/1?chain=bogus',
      ]) {
        const res = await audit.get(t, path);
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('validation_failed');
      }
    });

    it('needs audit:read', async () => {
      const key = await ll.request('POST', '/v1/api-keys', {
        key: t.apiKey,
        body: { name: 'writer', scopes: ['events:write'] },
      });
      expect(key.status).toBe(201);
      for (const path of [
        '/v1/audit/entries',
        '/v1/audit/entries/1',
        '/v1/audit/verify',
        '/v1/audit/export',
        '/v1/audit/checkpoints',
      ]) {
        const res = await ll.request('GET', path, { key: key.body.key });
        expect(res.status).toBe(403);
        expect(res.body.code).toBe('insufficient_scope');
        expect((await ll.request('GET', path)).status).toBe(401);
      }
    });
  });

  describe('tenant isolation', () => {
    let a: Tenant;
    let b: Tenant;
    let aIds: string[];

    beforeAll(async () => {
      a = tenants['iso-a'];
      b = tenants['iso-b'];
      aIds = await audit.publishBatch(a, [event(), event(), event(), event()]);
      await audit.publish(b, event());
      expect(await audit.caughtUp(a)).toBe(6);
      expect(await audit.caughtUp(b)).toBe(3);
    });

    it("never shows another tenant's entries", async () => {
      const bEntries = await audit.allEntries(b);
      expect(bEntries.map((e) => e.seq)).toEqual([3, 2, 1]);
      for (const e of bEntries) {
        expect(e.tenantId).toBe(b.tenantId);
        expect(aIds).not.toContain(e.eventId);
      }
      expect((await audit.get(b, '/v1/audit/entries/6')).status).toBe(404);
      expect((await audit.get(a, '/v1/audit/entries/6')).status).toBe(200);
      expect((await audit.get(b, `/v1/events/${aIds[0]}`)).status).toBe(404);
      const exported = await audit.get(b, '/v1/audit/export');
      const lines = exported.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines.map((e) => e.tenantId)).toEqual([b.tenantId, b.tenantId, b.tenantId]);
      for (const c of await audit.allCheckpoints(b)) expect(c.tenantId).toBe(b.tenantId);
    });

    it('verifies each tenant against its own entries only', async () => {
      const va = await audit.get(a, '/v1/audit/verify');
      const vb = await audit.get(b, '/v1/audit/verify');
      expect(va.body).toMatchObject({ ok: true, entries: 6, head: { seq: 6 } });
      expect(vb.body).toMatchObject({ ok: true, entries: 3, head: { seq: 3 } });
      expect(vb.body.head.hash).toBe((await audit.get(b, '/v1/audit/entries/3')).body.hash);
    });
  });
});
