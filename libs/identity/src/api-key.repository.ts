import { Injectable } from '@nestjs/common';
import { Database, Scope, Sql } from '@app/platform';

export interface ApiKeyRow {
  tenant_id: string;
  id: string;
  name: string;
  prefix: string;
  key_hash: Buffer;
  scopes: Scope[];
  created_at: Date;
  revoked_at: Date | null;
}

@Injectable()
export class ApiKeyRepository {
  constructor(private readonly db: Database) {}

  findByPrefix(prefix: string): Promise<ApiKeyRow[]> {
    return this.db.query<ApiKeyRow>(
      'SELECT * FROM api_keys WHERE prefix = $1',
      [prefix],
      'api_key_by_prefix',
    );
  }

  async insert(sql: Sql, row: Omit<ApiKeyRow, 'created_at' | 'revoked_at'>): Promise<ApiKeyRow> {
    const [created] = await sql.query<ApiKeyRow>(
      `INSERT INTO api_keys (tenant_id, id, name, prefix, key_hash, scopes)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [row.tenant_id, row.id, row.name, row.prefix, row.key_hash, row.scopes],
    );
    return created;
  }

  async revoke(sql: Sql, tenantId: string, id: string): Promise<ApiKeyRow | null> {
    const [row] = await sql.query<ApiKeyRow>(
      `UPDATE api_keys SET revoked_at = now()
       WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING *`,
      [tenantId, id],
    );
    return row ?? null;
  }
}
