import { Injectable } from '@nestjs/common';
import { Database, Tx } from '@app/platform';

export interface TenantSummary {
  tenantId: string;
  name: string;
  createdAt: string;
}

// Taken by every first-start bootstrap, so racing starters create one tenant between them.
const FIRST_TENANT_LOCK = 738202;

@Injectable()
export class TenantRepository {
  constructor(private readonly db: Database) {}

  async insert(tx: Tx, id: string, name: string): Promise<void> {
    await tx.query('INSERT INTO tenants (id, name) VALUES ($1, $2)', [id, name]);
  }

  /** Whether any tenant exists, serialised with every other first-start check until commit. */
  async anyExistsLocked(tx: Tx): Promise<boolean> {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [FIRST_TENANT_LOCK]);
    const [any] = await tx.query('SELECT 1 FROM tenants LIMIT 1');
    return Boolean(any);
  }

  /** Operators' view (the CLI's `tenant list`). */
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
