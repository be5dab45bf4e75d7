import { Injectable } from '@nestjs/common';
import { Database, Scope, Sql } from '@app/platform';

/** An API key as stored: only its lookup prefix and a hash of the whole key. */
export interface StoredApiKey {
  tenantId: string;
  id: string;
  name: string;
  prefix: string;
  keyHash: Buffer;
  scopes: Scope[];
  createdAt: Date;
  revokedAt: Date | null;
}

interface ApiKeyRow {
  tenant_id: string;
  id: string;
  name: string;
  prefix: string;
  key_hash: Buffer;
  scopes: Scope[];
  created_at: Date;
  revoked_at: Date | null;
}

const fromRow = (r: ApiKeyRow): StoredApiKey => ({
  tenantId: r.tenant_id,
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  keyHash: r.key_hash,
  scopes: r.scopes,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

@Injectable()
export class ApiKeyRepository {
  constructor(private readonly db: Database) {}

  /** By prefix across tenants: the prefix is what an incoming key names (then the hash decides). */
  async findByPrefix(prefix: string): Promise<StoredApiKey | null> {
    const [row] = await this.db.query<ApiKeyRow>(
      'SELECT * FROM api_keys WHERE prefix = $1',
      [prefix],
      'api_key_by_prefix',
    );
    return row ? fromRow(row) : null;
  }

  async insert(sql: Sql, key: Omit<StoredApiKey, 'createdAt' | 'revokedAt'>): Promise<void> {
    await sql.query(
      `INSERT INTO api_keys (tenant_id, id, name, prefix, key_hash, scopes)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [key.tenantId, key.id, key.name, key.prefix, key.keyHash, key.scopes],
    );
  }

  async revoke(sql: Sql, tenantId: string, id: string): Promise<StoredApiKey | null> {
    const [row] = await sql.query<ApiKeyRow>(
      `UPDATE api_keys SET revoked_at = now()
       WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING *`,
      [tenantId, id],
    );
    return row ? fromRow(row) : null;
  }
}
