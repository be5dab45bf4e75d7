import { Injectable } from '@nestjs/common';
import { Database, Tx } from '@app/platform';

/** A tenant's idempotency key, and the answer it promised. */
export interface IdempotencyClaim {
  tenantId: string;
  key: string;
  requestHash: string;
  response: { status: number; body: Record<string, unknown> };
}

interface KeyRow {
  tenant_id: string;
  key: string;
  request_hash: string;
  response_status: number;
  response_body: Record<string, unknown>;
}

/** One string per (tenant, key), for maps and sets. */
export const idempotencySlot = (tenantId: string, key: string) => `${tenantId}\u0000${key}`;

/** idempotency_keys: keys are promised for at least 24 h and kept 48 h. */
@Injectable()
export class IdempotencyKeyRepository {
  constructor(private readonly db: Database) {}

  /** Inserts the claims that are new; returns the slots this transaction won. */
  async claim(tx: Tx, claims: IdempotencyClaim[]): Promise<Set<string>> {
    const won = await tx.query<{ tenant_id: string; key: string }>(
      `INSERT INTO idempotency_keys (tenant_id, key, request_hash, response_status, response_body)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::jsonb[])
       ON CONFLICT (tenant_id, key) DO NOTHING RETURNING tenant_id, key`,
      [
        claims.map((c) => c.tenantId),
        claims.map((c) => c.key),
        claims.map((c) => c.requestHash),
        claims.map((c) => c.response.status),
        claims.map((c) => JSON.stringify(c.response.body)),
      ],
      'idempotency_claim',
    );
    return new Set(won.map((r) => idempotencySlot(r.tenant_id, r.key)));
  }

  /** The stored claims of these keys, by slot (a key purged meanwhile is absent). */
  async find(
    tx: Tx,
    keys: { tenantId: string; key: string }[],
  ): Promise<Map<string, IdempotencyClaim>> {
    const rows = await tx.query<KeyRow>(
      `SELECT k.* FROM idempotency_keys k
       JOIN unnest($1::uuid[], $2::text[]) AS w(tenant_id, key) USING (tenant_id, key)`,
      [keys.map((k) => k.tenantId), keys.map((k) => k.key)],
      'idempotency_lookup',
    );
    return new Map(
      rows.map((r) => [
        idempotencySlot(r.tenant_id, r.key),
        {
          tenantId: r.tenant_id,
          key: r.key,
          requestHash: r.request_hash,
          response: { status: r.response_status, body: r.response_body },
        },
      ]),
    );
  }

  /** Deletes up to `limit` keys older than 48 h; returns how many. */
  async purgeExpired(limit: number): Promise<number> {
    const rows = await this.db.query(
      `DELETE FROM idempotency_keys WHERE ctid IN (
         SELECT ctid FROM idempotency_keys WHERE created_at < now() - interval '48 hours' LIMIT $1)
       RETURNING 1`,
      [limit],
    );
    return rows.length;
  }
}
