import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ledgerline, Tenant, waitFor } from './ledgerline';

/**
 * Thin client of the audit API for the tenants of one Ledgerline; `dir` is where auditorFiles()
 * keeps what an auditor would (export, public key, checkpoints).
 */
export class AuditClient {
  constructor(
    private readonly ll: Ledgerline,
    private readonly dir: string,
  ) {}

  get(t: Tenant, path: string) {
    return this.ll.request('GET', path, { key: t.apiKey });
  }

  async publish(t: Tenant, body: unknown): Promise<string> {
    const res = await this.ll.request('POST', '/v1/events', { key: t.apiKey, body });
    expect(res.status).toBe(202);
    return res.body.id as string;
  }

  async publishBatch(t: Tenant, events: unknown[]): Promise<string[]> {
    const res = await this.ll.request('POST', '/v1/events/batch', {
      key: t.apiKey,
      body: { events },
    });
    expect(res.status).toBe(202);
    return res.body.ids as string[];
  }

  /** Waits until every chained event of the tenant is in its chain; returns the entry count. */
  async caughtUp(t: Tenant): Promise<number> {
    return waitFor(`audit of ${t.tenantId} caught up`, async () => {
      const [r] = await this.ll.sql(
        `SELECT (SELECT count(*) FROM events WHERE tenant_id = $1 AND type <> 'audit.checkpoint')::int AS events,
                (SELECT count(*) FROM audit_entries WHERE tenant_id = $1 AND chain = 'main')::int AS entries`,
        [t.tenantId],
      );
      return r.events === r.entries && r.entries;
    });
  }

  /** Waits until event `id` is audited; returns its seq in the main chain. */
  async auditedSeq(t: Tenant, id: string): Promise<number> {
    const audit = await waitFor(`event ${id} audited`, async () => {
      const res = await this.get(t, `/v1/events/${id}`);
      return res.status === 200 && res.body.audit;
    });
    expect(audit).toEqual({ chain: 'main', seq: expect.any(Number) });
    return audit.seq as number;
  }

  /** Walks every page of the entries list; returns the entries in the order they came. */
  async allEntries(t: Tenant, query = '', limit = 500): Promise<any[]> {
    const out: any[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 1000; page++) {
      const qs = `limit=${limit}${query ? `&${query}` : ''}${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await this.get(t, `/v1/audit/entries?${qs}`);
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(limit);
      out.push(...res.body.data);
      cursor = res.body.nextCursor;
      if (cursor === null) return out;
      expect(res.body.data).toHaveLength(limit);
    }
    throw new Error('too many pages');
  }

  async allCheckpoints(t: Tenant): Promise<any[]> {
    const out: any[] = [];
    let cursor: string | null = null;
    do {
      const res = await this.get(
        t,
        `/v1/audit/checkpoints?chain=main&limit=500${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.status).toBe(200);
      out.push(...res.body.data);
      cursor = res.body.nextCursor;
    } while (cursor);
    return out;
  }

  async waitForCheckpoint(t: Tenant, atLeastSeq: number): Promise<any[]> {
    return waitFor(`a checkpoint at seq >= ${atLeastSeq}`, async () => {
      const list = await this.allCheckpoints(t);
      return list.some((c) => c.seq >= atLeastSeq) && list;
    });
  }

  /** Export, public key and checkpoints in files, as an auditor would keep them. */
  async auditorFiles(t: Tenant, name: string, exported?: string) {
    const exportFile = join(this.dir, `${name}.ndjson`);
    if (exported === undefined) {
      const res = await this.get(t, '/v1/audit/export?chain=main');
      expect(res.status).toBe(200);
      exported = res.text;
    }
    writeFileSync(exportFile, exported);
    const keyFile = join(this.dir, `${name}.pem`);
    const key = await this.ll.request('GET', '/v1/audit/public-key');
    expect(key.status).toBe(200);
    writeFileSync(keyFile, key.body.publicKey);
    const checkpointsFile = join(this.dir, `${name}.checkpoints.json`);
    const checkpoints = await this.allCheckpoints(t);
    writeFileSync(checkpointsFile, JSON.stringify({ data: checkpoints }));
    return { exportFile, keyFile, checkpointsFile, checkpoints, exported };
  }
}
