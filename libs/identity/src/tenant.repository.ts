import { Injectable } from '@nestjs/common';
import { Database } from '@app/platform';

export interface TenantSummary {
  tenantId: string;
  name: string;
  createdAt: string;
}

/** Operators' reads of the tenants table (the CLI's `tenant list`, checks before key creation). */
@Injectable()
export class TenantRepository {
  constructor(private readonly db: Database) {}

  async list(): Promise<TenantSummary[]> {
    const rows = await this.db.query<{ id: string; name: string; created_at: Date }>(
      'SELECT id, name, created_at FROM tenants ORDER BY created_at, id',
    );
    return rows.map((r) => ({
      tenantId: r.id,
      name: r.name,
      createdAt: r.created_at.toISOString(),
    }));
  }

  async exists(tenantId: string): Promise<boolean> {
    const rows = await this.db.query('SELECT 1 FROM tenants WHERE id = $1', [tenantId]);
    return rows.length > 0;
  }
}
