import canonicalize from 'canonicalize';
import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledgerline, Tenant, event, waitFor } from './support/ledgerline';

interface ChainCheck {
  ok: boolean;
  entries: number;
  head?: { seq: number; hash: string };
  firstBreak?: { seq: number; reason: string };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const tool = require('./tools/verify-chain.js') as {
  verify(exportFile: string, publicKeyFile?: string, checkpointsFile?: string): Promise<ChainCheck>;
  /** The SPEC section 4 hash, written independently of the service's code. */
  entryHash(entry: object): string;
};
const { entryHash } = tool;

const ZERO_HASH = '0'.repeat(64);
const HEX64 = /^[0-9a-f]{64}$/;
const ENTRY_KEYS = [
  'actingAsTenantId',
  'actor',
  'chain',
  'data',
  'eventId',
  'hash',
  'occurredAt',
  'prevHash',
  'recordedAt',
  'seq',
  'subject',
  'tenantId',
  'type',
];

describe('audit chain', () => {
  let ll: Ledgerline;
  let dir: string;

  /** A tenant of its own for every group of tests, created up front (the CLI is slow to start). */
  const tenants: Record<string, Tenant> = {};
  const tenantNames = [
    'pii',
    'structure',
    'lister',
    'iso-a',
    'iso-b',
    'exporter',
    'signer',
    'cli-ok',
    'cli-tampered',
  ];

  beforeAll(async () => {
    ll = await Ledgerline.start({ env: { AUDIT_CHECKPOINT_INTERVAL_MS: '500' } });
    dir = mkdtempSync(join(tmpdir(), 'audit-e2e-'));
    const created = await Promise.all(tenantNames.map((n) => ll.createTenant(n)));
    tenantNames.forEach((n, i) => (tenants[n] = created[i]));
  });
  afterAll(async () => {
    await ll?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const get = (t: Tenant, path: string) => ll.request('GET', path, { key: t.apiKey });

  async function publish(t: Tenant, body: unknown): Promise<string> {
    const res = await ll.request('POST', '/v1/events', { key: t.apiKey, body });
    expect(res.status).toBe(202);
    return res.body.id as string;
  }

  async function publishBatch(t: Tenant, events: unknown[]): Promise<string[]> {
    const res = await ll.request('POST', '/v1/events/batch', { key: t.apiKey, body: { events } });
    expect(res.status).toBe(202);
    return res.body.ids as string[];
  }

  /** Waits until every chained event of the tenant is in its chain; returns the entry count. */
  async function caughtUp(t: Tenant): Promise<number> {
    return waitFor(`audit of ${t.tenantId} caught up`, async () => {
      const [r] = await ll.sql(
        `SELECT (SELECT count(*) FROM events WHERE tenant_id = $1 AND type <> 'audit.checkpoint')::int AS events,
                (SELECT count(*) FROM audit_entries WHERE tenant_id = $1 AND chain = 'main')::int AS entries`,
        [t.tenantId],
      );
      return r.events === r.entries && r.entries;
    });
  }

  async function auditedSeq(t: Tenant, id: string): Promise<number> {
    const audit = await waitFor(`event ${id} audited`, async () => {
      const res = await get(t, `/v1/events/${id}`);
      return res.status === 200 && res.body.audit;
    });
    expect(audit).toEqual({ chain: 'main', seq: expect.any(Number) });
    return audit.seq as number;
  }

  /** Walks every page of the entries list; returns the entries in the order they came. */
  async function allEntries(t: Tenant, query = '', limit = 500): Promise<any[]> {
    const out: any[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 1000; page++) {
      const qs = `limit=${limit}${query ? `&${query}` : ''}${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await get(t, `/v1/audit/entries?${qs}`);
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(limit);
      out.push(...res.body.data);
      cursor = res.body.nextCursor;
      if (cursor === null) return out;
      expect(res.body.data).toHaveLength(limit);
    }
    throw new Error('too many pages');
  }

  async function allCheckpoints(t: Tenant): Promise<any[]> {
    const out: any[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(
        t,
        `/v1/audit/checkpoints?chain=main&limit=500${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.status).toBe(200);
      out.push(...res.body.data);
      cursor = res.body.nextCursor;
    } while (cursor);
    return out;
  }

  /** Export, public key and checkpoints in files, as an auditor would keep them. */
  async function auditorFiles(t: Tenant, name: string, exported?: string) {
    const exportFile = join(dir, `${name}.ndjson`);
    if (exported === undefined) {
      const res = await get(t, '/v1/audit/export?chain=main');
      expect(res.status).toBe(200);
      exported = res.text;
    }
    writeFileSync(exportFile, exported);
    const keyFile = join(dir, `${name}.pem`);
    const key = await ll.request('GET', '/v1/audit/public-key');
    expect(key.status).toBe(200);
    writeFileSync(keyFile, key.body.publicKey);
    const checkpointsFile = join(dir, `${name}.checkpoints.json`);
    const checkpoints = await allCheckpoints(t);
    writeFileSync(checkpointsFile, JSON.stringify({ data: checkpoints }));
    return { exportFile, keyFile, checkpointsFile, checkpoints, exported };
  }

  async function waitForCheckpoint(t: Tenant, atLeastSeq: number): Promise<any[]> {
    return waitFor(`a checkpoint at seq >= ${atLeastSeq}`, async () => {
      const list = await allCheckpoints(t);
      return list.some((c) => c.seq >= atLeastSeq) && list;
    });
  }

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
      id = await publish(t, event({ type: 'customer.updated', data: raw }));
      seq = await auditedSeq(t, id);
    });

    it('shows the redacted copy in the entries API', async () => {
      const one = await get(t, `/v1/audit/entries/${seq}?chain=main`);
      expect(one.status).toBe(200);
      expect(one.body).toMatchObject({ seq, chain: 'main', eventId: id, type: 'customer.updated' });
      expect(one.body.data).toEqual(redacted);
      const listed = await get(t, '/v1/audit/entries?type=customer.updated');
      expect(listed.body.data).toHaveLength(1);
      expect(listed.body.data[0]).toEqual(one.body);
      const exported = await get(t, '/v1/audit/export');
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
      const res = await get(t, `/v1/events/${id}`);
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual(raw);
      expect(res.body.audit).toEqual({ chain: 'main', seq });
    });
  });

  describe('chain structure', () => {
    let t: Tenant;

    beforeAll(async () => {
      t = tenants['structure'];
      await publishBatch(t, [
        event({ subject: 'invoice/1' }),
        event({ subject: 'invoice/2', actingAsTenantId: t.tenantId }),
      ]);
      await publish(t, { type: 'user.signed_up', actor: { type: 'service', id: 'svc' }, data: {} });
      const key = await ll.request('POST', '/v1/api-keys', {
        key: t.apiKey,
        body: { name: 'reader', scopes: ['audit:read'] },
      });
      expect(key.status).toBe(201);
      await caughtUp(t);
    });

    it('numbers entries 1..n without gaps and links each to the one before', async () => {
      const newestFirst = await allEntries(t);
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
      const entries = (await allEntries(t)).reverse();
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
        const res = await get(t, `/v1/events/${id}`);
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
      const res = await get(t, `/v1/events/${cp.id}`);
      expect(res.status).toBe(200);
      expect(res.body.type).toBe('audit.checkpoint');
      expect(res.body.audit).toBeNull();
      expect(await caughtUp(t)).toBe(6);
      const listed = await get(t, '/v1/audit/entries?type=audit.checkpoint');
      expect(listed.body.data).toEqual([]);
    });

    it('answers verify with exactly {ok, chain, entries, head}', async () => {
      const entries = await allEntries(t);
      const res = await get(t, '/v1/audit/verify?chain=main');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        ok: true,
        chain: 'main',
        entries: 6,
        head: { seq: 6, hash: entries[0].hash },
      });
      expect(Object.keys(res.body).sort()).toEqual(['chain', 'entries', 'head', 'ok']);
      expect(Object.keys(res.body.head).sort()).toEqual(['hash', 'seq']);
      const byDefault = await get(t, '/v1/audit/verify');
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
      ids = await publishBatch(t, specs);
      expect(await caughtUp(t)).toBe(14);
    });

    it('lists newest first with the default limit', async () => {
      const res = await get(t, '/v1/audit/entries');
      expect(res.status).toBe(200);
      expect(res.body.nextCursor).toBeNull();
      expect(res.body.data.map((e: any) => e.seq)).toEqual([
        14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1,
      ]);
      expectIds(res.body.data.slice(0, 12), () => true);
    });

    it('filters by type, actorId, subject and occurredAt range', async () => {
      const q = async (qs: string) => {
        const res = await get(t, `/v1/audit/entries?${qs}`);
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
        const walked = await allEntries(t, '', limit);
        const seqs = walked.map((e) => e.seq);
        expect(new Set(seqs).size).toBe(seqs.length);
        expect(seqs).toEqual([14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
      }
      const filtered = await allEntries(t, 'actorId=u_even', 2);
      expectIds(filtered, (i) => i % 2 === 0);
    });

    it('gets one entry by seq, 404 for an unknown one', async () => {
      const listed = (await get(t, '/v1/audit/entries?limit=1')).body.data[0];
      const one = await get(t, `/v1/audit/entries/${listed.seq}`);
      expect(one.status).toBe(200);
      expect(one.body).toEqual(listed);
      expect((await get(t, `/v1/audit/entries/${listed.seq}?chain=main`)).body).toEqual(listed);
      for (const seq of ['15', '999999', '0', 'abc', '-1', '1.5']) {
        const res = await get(t, `/v1/audit/entries/${seq}`);
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
      const res = await get(t, `/v1/audit/entries?${qs}`);
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
        const res = await get(t, path);
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
      aIds = await publishBatch(a, [event(), event(), event(), event()]);
      await publish(b, event());
      expect(await caughtUp(a)).toBe(6);
      expect(await caughtUp(b)).toBe(3);
    });

    it("never shows another tenant's entries", async () => {
      const bEntries = await allEntries(b);
      expect(bEntries.map((e) => e.seq)).toEqual([3, 2, 1]);
      for (const e of bEntries) {
        expect(e.tenantId).toBe(b.tenantId);
        expect(aIds).not.toContain(e.eventId);
      }
      expect((await get(b, '/v1/audit/entries/6')).status).toBe(404);
      expect((await get(a, '/v1/audit/entries/6')).status).toBe(200);
      expect((await get(b, `/v1/events/${aIds[0]}`)).status).toBe(404);
      const exported = await get(b, '/v1/audit/export');
      const lines = exported.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines.map((e) => e.tenantId)).toEqual([b.tenantId, b.tenantId, b.tenantId]);
      for (const c of await allCheckpoints(b)) expect(c.tenantId).toBe(b.tenantId);
    });

    it('verifies each tenant against its own entries only', async () => {
      const va = await get(a, '/v1/audit/verify');
      const vb = await get(b, '/v1/audit/verify');
      expect(va.body).toMatchObject({ ok: true, entries: 6, head: { seq: 6 } });
      expect(vb.body).toMatchObject({ ok: true, entries: 3, head: { seq: 3 } });
      expect(vb.body.head.hash).toBe((await get(b, '/v1/audit/entries/3')).body.hash);
    });
  });

  describe('export', () => {
    let t: Tenant;
    let total: number;

    beforeAll(async () => {
      t = tenants['exporter'];
      await publishBatch(
        t,
        Array.from({ length: 20 }, (_, i) =>
          event({ data: { i, note: `entry ${i} for ops${i}@example.com`, ünïcødé: 'ß∂ƒ 😀' } }),
        ),
      );
      total = await caughtUp(t);
      expect(total).toBe(22);
      await waitForCheckpoint(t, total);
    });

    it('streams NDJSON in seq order that the standalone verifier accepts, with key and checkpoints', async () => {
      const res = await get(t, '/v1/audit/export?chain=main');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
      expect(res.text.endsWith('\n')).toBe(true);
      const lines = res.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines.map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(lines.reverse()).toEqual(await allEntries(t));

      const files = await auditorFiles(t, 'exporter', res.text);
      expect(files.checkpoints.length).toBeGreaterThan(0);
      const head = (await get(t, '/v1/audit/verify')).body.head;
      expect(await tool.verify(files.exportFile, files.keyFile, files.checkpointsFile)).toEqual({
        ok: true,
        entries: total,
        head,
      });
      expect(await tool.verify(files.exportFile)).toMatchObject({ ok: true, entries: total });
    });

    it('is caught by the standalone verifier when a line or a checkpoint is altered', async () => {
      const files = await auditorFiles(t, 'exporter-tampered');
      const lines = files.exported.trim().split('\n');
      const edited = JSON.parse(lines[4]);
      edited.data = { ...edited.data, i: 999 };
      lines[4] = JSON.stringify(edited);
      writeFileSync(files.exportFile, `${lines.join('\n')}\n`);
      expect(await tool.verify(files.exportFile)).toMatchObject({
        ok: false,
        firstBreak: { seq: 5, reason: 'hash_mismatch' },
      });

      const original = await auditorFiles(t, 'exporter-forged');
      const forged = original.checkpoints.map((c) => ({ ...c, hash: 'f'.repeat(64) }));
      writeFileSync(original.checkpointsFile, JSON.stringify({ data: forged }));
      expect(
        await tool.verify(original.exportFile, original.keyFile, original.checkpointsFile),
      ).toMatchObject({
        ok: false,
        firstBreak: { seq: original.checkpoints[0].seq, reason: 'checkpoint_mismatch' },
      });
    });

    it('exports a seq range with fromSeq and toSeq', async () => {
      const full = (await get(t, '/v1/audit/export')).text.trim().split('\n');
      const range = await get(t, '/v1/audit/export?chain=main&fromSeq=3&toSeq=7');
      expect(range.status).toBe(200);
      expect(range.text.trim().split('\n')).toEqual(full.slice(2, 7));
      const tail = await get(t, `/v1/audit/export?fromSeq=${total - 1}`);
      expect(tail.text.trim().split('\n')).toEqual(full.slice(total - 2));
      const head = await get(t, '/v1/audit/export?toSeq=2');
      expect(head.text.trim().split('\n')).toEqual(full.slice(0, 2));
      const none = await get(t, `/v1/audit/export?fromSeq=${total + 1}`);
      expect(none.status).toBe(200);
      expect(none.text).toBe('');
      for (const qs of ['fromSeq=0', 'fromSeq=abc', 'toSeq=-1']) {
        const bad = await get(t, `/v1/audit/export?${qs}`);
        expect(bad.status).toBe(400);
        expect(bad.body.code).toBe('validation_failed');
      }
    });
  });

  describe('signed checkpoints', () => {
    let t: Tenant;

    beforeAll(async () => {
      t = tenants['signer'];
      await publish(t, event());
      await caughtUp(t);
    });

    it('signs the chain head with the service key (JCS of {tenantId, chain, seq, hash, signedAt}) and names it by keyId', async () => {
      const checkpoints = await waitForCheckpoint(t, 3);
      const key = await ll.request('GET', '/v1/audit/public-key');
      expect(key.status).toBe(200);
      expect(Object.keys(key.body).sort()).toEqual(['keyId', 'publicKey']);
      expect(key.body.publicKey).toMatch(/^-----BEGIN PUBLIC KEY-----/);
      const publicKey = createPublicKey(key.body.publicKey);
      expect(publicKey.asymmetricKeyType).toBe('ed25519');
      // keyId: lowercase hex SHA-256 of the SPKI DER
      const keyId = createHash('sha256')
        .update(publicKey.export({ type: 'spki', format: 'der' }))
        .digest('hex');
      expect(key.body.keyId).toBe(keyId);
      const listed = await ll.request('GET', '/v1/audit/public-keys', { key: t.apiKey });
      expect(listed.status).toBe(200);
      expect(listed.body.data).toEqual([
        { keyId, publicKey: key.body.publicKey, firstUsedAt: expect.any(String) },
      ]);
      expect(Date.parse(listed.body.data[0].firstUsedAt)).toBeLessThanOrEqual(
        Date.parse(checkpoints[0].signedAt),
      );
      for (const c of checkpoints) {
        expect(Object.keys(c).sort()).toEqual([
          'chain',
          'hash',
          'keyId',
          'seq',
          'signature',
          'signedAt',
          'tenantId',
        ]);
        expect(c).toMatchObject({ tenantId: t.tenantId, chain: 'main', keyId });
        expect(c.signedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        const payload = (body: Record<string, unknown>) => Buffer.from(canonicalize(body)!, 'utf8');
        const signature = Buffer.from(c.signature, 'base64');
        const { signature: _s, keyId: _k, ...unsigned } = c;
        expect(verifySignature(null, payload(unsigned), publicKey, signature)).toBe(true);
        expect(
          verifySignature(null, payload({ ...unsigned, seq: c.seq + 1 }), publicKey, signature),
        ).toBe(false);
        const entry = await get(t, `/v1/audit/entries/${c.seq}`);
        expect(entry.body.hash).toBe(c.hash);
      }
      const events = await ll.sql<{ data: any }>(
        `SELECT data FROM events WHERE tenant_id = $1 AND type = 'audit.checkpoint' ORDER BY position`,
        [t.tenantId],
      );
      expect(events.map((e) => e.data)).toEqual(checkpoints);
    });
  });

  describe('CLI', () => {
    it('verifies a chain (exit 0) and exports one the standalone verifier accepts', async () => {
      const t = tenants['cli-ok'];
      await publishBatch(t, [event(), event({ data: { who: 'eve@example.com' } })]);
      const total = await caughtUp(t);
      await waitForCheckpoint(t, total);
      const id = ['--tenant', t.tenantId];
      const [verified, exported, range] = await Promise.all([
        ll.cli('audit', 'verify', ...id),
        ll.cli('audit', 'export', ...id),
        ll.cli('audit', 'export', ...id, '--from-seq', '2', '--to-seq', '3'),
      ]);
      const out = JSON.parse(verified);
      expect(out).toEqual((await get(t, '/v1/audit/verify')).body);
      expect(out).toMatchObject({ ok: true, chain: 'main', entries: total });

      expect(exported).not.toContain('eve@example.com');
      expect(exported).toBe((await get(t, '/v1/audit/export')).text);
      const files = await auditorFiles(t, 'cli', exported);
      expect(await tool.verify(files.exportFile, files.keyFile, files.checkpointsFile)).toEqual({
        ok: true,
        entries: total,
        head: out.head,
      });
      expect(range).toBe((await get(t, '/v1/audit/export?fromSeq=2&toSeq=3')).text);
      expect(
        range
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).seq),
      ).toEqual([2, 3]);
    });

    it('exits 1 with the first break after tampering', async () => {
      const t = tenants['cli-tampered'];
      await publishBatch(t, [event(), event(), event()]);
      expect(await caughtUp(t)).toBe(5);
      await ll.sql('SET session_replication_role = replica');
      try {
        await ll.sql(
          `UPDATE audit_entries SET data = '{"amount": 1}' WHERE tenant_id = $1 AND seq = 4`,
          [t.tenantId],
        );
      } finally {
        await ll.sql('SET session_replication_role = DEFAULT');
      }
      const err = await ll.cli('audit', 'verify', '--tenant', t.tenantId).then(
        () => null,
        (e: { code?: number; stdout?: string }) => e,
      );
      expect(err).not.toBeNull();
      expect(err!.code).toBe(1);
      expect(JSON.parse(err!.stdout!)).toEqual({
        ok: false,
        chain: 'main',
        entries: 4,
        firstBreak: { seq: 4, reason: 'hash_mismatch' },
      });
      expect((await get(t, '/v1/audit/verify')).body).toEqual(JSON.parse(err!.stdout!));
    });

    it('refuses a missing or malformed tenant or chain with exit 2', async () => {
      const errors = await Promise.all(
        [
          [],
          ['--tenant', 'nope'],
          ['--tenant', tenants['cli-ok'].tenantId, '--chain', 'bogus'],
        ].map((args) =>
          ll.cli('audit', 'verify', ...args).then(
            () => null,
            (e: { code?: number }) => e,
          ),
        ),
      );
      expect(errors.map((e) => e?.code)).toEqual([2, 2, 2]);
    });
  });
});
