import { Injectable } from '@nestjs/common';
import { Tx } from '@app/platform';

// Taken by every first-start bootstrap, so racing starters create one tenant between them.
const FIRST_TENANT_LOCK = 738202;

@Injectable()
export class TenantRepository {
  async insert(tx: Tx, id: string, name: string): Promise<void> {
    await tx.query('INSERT INTO tenants (id, name) VALUES ($1, $2)', [id, name]);
  }

  /** Whether any tenant exists, serialised with every other first-start check until commit. */
  async anyExistsLocked(tx: Tx): Promise<boolean> {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [FIRST_TENANT_LOCK]);
    const [any] = await tx.query('SELECT 1 FROM tenants LIMIT 1');
    return Boolean(any);
  }
}
