import { Injectable } from '@nestjs/common';
import { Database, Sql } from '@app/platform';

export interface EndpointRow {
  tenant_id: string;
  id: string;
  url: string;
  event_types: string[];
  description: string | null;
  rate_limit_per_second: number | null;
  status: 'enabled' | 'disabled';
  disabled_reason: string | null;
  secret_sealed: string;
  secret_key_id: string;
  previous_secret_sealed: string | null;
  previous_secret_key_id: string | null;
  previous_secret_expires_at: Date | null;
  consecutive_failures: number;
  failing_since: Date | null;
  /** Until when its attempts take the slow lane; null for the fast lane. */
  slow_until: Date | null;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

export interface EndpointPatch {
  url?: string;
  event_types?: string[];
  description?: string | null;
  rate_limit_per_second?: number | null;
}

@Injectable()
export class WebhookEndpointRepository {
  constructor(private readonly db: Database) {}

  async insert(
    sql: Sql,
    row: Omit<
      EndpointRow,
      | 'updated_at'
      | 'deleted_at'
      | 'consecutive_failures'
      | 'failing_since'
      | 'slow_until'
      | 'status'
      | 'disabled_reason'
      | 'previous_secret_sealed'
      | 'previous_secret_key_id'
      | 'previous_secret_expires_at'
    >,
  ): Promise<EndpointRow> {
    const [created] = await sql.query<EndpointRow>(
      `INSERT INTO webhook_endpoints (tenant_id, id, url, event_types, description, rate_limit_per_second,
                                      secret_sealed, secret_key_id, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING *`,
      [
        row.tenant_id,
        row.id,
        row.url,
        row.event_types,
        row.description,
        row.rate_limit_per_second,
        row.secret_sealed,
        row.secret_key_id,
        row.created_at,
      ],
    );
    return created;
  }

  async find(sql: Sql, tenantId: string, id: string, lock = false): Promise<EndpointRow | null> {
    const [row] = await sql.query<EndpointRow>(
      `SELECT * FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL${lock ? ' FOR UPDATE' : ''}`,
      [tenantId, id],
    );
    return row ?? null;
  }

  get(tenantId: string, id: string): Promise<EndpointRow | null> {
    return this.find(this.db, tenantId, id);
  }

  list(tenantId: string, afterId: string | null, limit: number): Promise<EndpointRow[]> {
    return this.db.query<EndpointRow>(
      `SELECT * FROM webhook_endpoints WHERE tenant_id = $1 AND deleted_at IS NULL
         AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3`,
      [tenantId, afterId, limit],
    );
  }

  /** Enabled endpoints of a tenant: what fan-out matches events against. */
  enabled(
    sql: Sql,
    tenantId: string,
  ): Promise<Pick<EndpointRow, 'id' | 'event_types' | 'created_at' | 'slow_until'>[]> {
    return sql.query(
      `SELECT id, event_types, created_at, slow_until FROM webhook_endpoints
       WHERE tenant_id = $1 AND status = 'enabled' AND deleted_at IS NULL`,
      [tenantId],
      'endpoints_enabled',
    );
  }

  async update(
    sql: Sql,
    tenantId: string,
    id: string,
    set: Record<string, unknown>,
  ): Promise<EndpointRow> {
    const keys = Object.keys(set);
    const assignments = keys.map((k, i) => `${k} = $${i + 3}`).join(', ');
    const [row] = await sql.query<EndpointRow>(
      `UPDATE webhook_endpoints SET ${assignments}, updated_at = now()
       WHERE tenant_id = $1 AND id = $2 RETURNING *`,
      [tenantId, id, ...keys.map((k) => set[k])],
    );
    return row;
  }

  /** Moves the endpoint to the slow lane until `until` (null: back to the fast lane). */
  async setSlowUntil(tenantId: string, id: string, until: Date | null): Promise<void> {
    // Operational state, not configuration: updated_at and the audit chain are left alone.
    await this.db.query(
      `UPDATE webhook_endpoints SET slow_until = $3 WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id, until],
      'endpoint_slow_until',
    );
  }
}
