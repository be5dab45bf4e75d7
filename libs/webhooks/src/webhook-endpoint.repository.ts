import { Injectable } from '@nestjs/common';
import { Database, Sql } from '@app/platform';
import { EndpointChange, WebhookEndpoint } from './webhook-endpoint';

/** A webhook_endpoints row (only repositories see it). */
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
  slow_until: Date | null;
  starts_after_position: number;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

export function toEndpoint(r: EndpointRow): WebhookEndpoint {
  return {
    tenantId: r.tenant_id,
    id: r.id,
    url: r.url,
    eventTypes: r.event_types,
    description: r.description,
    rateLimitPerSecond: r.rate_limit_per_second,
    status: r.status,
    disabledReason: r.disabled_reason,
    secretSealed: r.secret_sealed,
    secretKeyId: r.secret_key_id,
    previousSecretSealed: r.previous_secret_sealed,
    previousSecretKeyId: r.previous_secret_key_id,
    previousSecretExpiresAt: r.previous_secret_expires_at,
    consecutiveFailures: r.consecutive_failures,
    failingSince: r.failing_since,
    slowUntil: r.slow_until,
    startsAfterPosition: r.starts_after_position,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    deletedAt: r.deleted_at,
  };
}

/** The columns an EndpointChange may set: names never come from anywhere else. */
const CHANGE_COLUMNS: Record<keyof EndpointChange, keyof EndpointRow> = {
  url: 'url',
  eventTypes: 'event_types',
  description: 'description',
  rateLimitPerSecond: 'rate_limit_per_second',
  status: 'status',
  disabledReason: 'disabled_reason',
  secretSealed: 'secret_sealed',
  secretKeyId: 'secret_key_id',
  previousSecretSealed: 'previous_secret_sealed',
  previousSecretKeyId: 'previous_secret_key_id',
  previousSecretExpiresAt: 'previous_secret_expires_at',
  consecutiveFailures: 'consecutive_failures',
  failingSince: 'failing_since',
  startsAfterPosition: 'starts_after_position',
  deletedAt: 'deleted_at',
};

export type NewEndpoint = Pick<
  WebhookEndpoint,
  | 'tenantId'
  | 'id'
  | 'url'
  | 'eventTypes'
  | 'description'
  | 'rateLimitPerSecond'
  | 'secretSealed'
  | 'secretKeyId'
  | 'createdAt'
>;

/** An endpoint's sealed secrets, for `secrets rekey`. */
export interface SealedSecrets {
  tenantId: string;
  id: string;
  secretSealed: string;
  previousSecretSealed: string | null;
}

/** Secrets under another key, or sealed before owners were bound ($1 key id, $2 LIKE pattern). */
const STALE = `(secret_key_id <> $1 OR secret_sealed NOT LIKE $2
   OR (previous_secret_sealed IS NOT NULL AND (previous_secret_key_id <> $1 OR previous_secret_sealed NOT LIKE $2)))`;

@Injectable()
export class WebhookEndpointRepository {
  constructor(private readonly db: Database) {}

  async insert(sql: Sql, e: NewEndpoint): Promise<WebhookEndpoint> {
    const [created] = await sql.query<EndpointRow>(
      `INSERT INTO webhook_endpoints (tenant_id, id, url, event_types, description, rate_limit_per_second,
                                      secret_sealed, secret_key_id, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING *`,
      [
        e.tenantId,
        e.id,
        e.url,
        e.eventTypes,
        e.description,
        e.rateLimitPerSecond,
        e.secretSealed,
        e.secretKeyId,
        e.createdAt,
      ],
    );
    return toEndpoint(created);
  }

  async find(
    sql: Sql,
    tenantId: string,
    id: string,
    lock = false,
  ): Promise<WebhookEndpoint | null> {
    const [row] = await sql.query<EndpointRow>(
      `SELECT * FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL${lock ? ' FOR UPDATE' : ''}`,
      [tenantId, id],
    );
    return row ? toEndpoint(row) : null;
  }

  get(tenantId: string, id: string): Promise<WebhookEndpoint | null> {
    return this.find(this.db, tenantId, id);
  }

  async list(tenantId: string, afterId: string | null, limit: number): Promise<WebhookEndpoint[]> {
    const rows = await this.db.query<EndpointRow>(
      `SELECT * FROM webhook_endpoints WHERE tenant_id = $1 AND deleted_at IS NULL
         AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3`,
      [tenantId, afterId, limit],
    );
    return rows.map(toEndpoint);
  }

  /**
   * Endpoints that owe a delivery for each matching new event: enabled ones (pending) and
   * disabled ones (waiting until enabled). Deleted endpoints receive nothing.
   */
  async receiving(sql: Sql, tenantId: string): Promise<WebhookEndpoint[]> {
    const rows = await sql.query<EndpointRow>(
      `SELECT * FROM webhook_endpoints WHERE tenant_id = $1 AND deleted_at IS NULL`,
      [tenantId],
      'endpoints_receiving',
    );
    return rows.map(toEndpoint);
  }

  async update(
    sql: Sql,
    tenantId: string,
    id: string,
    change: EndpointChange,
  ): Promise<WebhookEndpoint> {
    const keys = Object.keys(change) as (keyof EndpointChange)[];
    const assignments = keys.map((k, i) => `${CHANGE_COLUMNS[k]} = $${i + 3}`).join(', ');
    const [row] = await sql.query<EndpointRow>(
      `UPDATE webhook_endpoints SET ${assignments}${keys.length ? ', ' : ''}updated_at = now()
       WHERE tenant_id = $1 AND id = $2 RETURNING *`,
      [tenantId, id, ...keys.map((k) => change[k])],
    );
    return toEndpoint(row);
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

  /** How many endpoints hold a secret not sealed under `keyId` or not bound to its owner. */
  async countStaleSecrets(keyId: string, boundPrefix: string): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM webhook_endpoints WHERE ${STALE}`,
      [keyId, `${boundPrefix}%`],
    );
    return row.n;
  }

  /** A page of such endpoints, locked until the transaction ends. */
  async lockStaleSecrets(
    tx: Sql,
    keyId: string,
    boundPrefix: string,
    limit: number,
  ): Promise<SealedSecrets[]> {
    const rows = await tx.query<EndpointRow>(
      `SELECT * FROM webhook_endpoints WHERE ${STALE} ORDER BY tenant_id, id LIMIT $3 FOR UPDATE`,
      [keyId, `${boundPrefix}%`, limit],
    );
    return rows.map((r) => ({
      tenantId: r.tenant_id,
      id: r.id,
      secretSealed: r.secret_sealed,
      previousSecretSealed: r.previous_secret_sealed,
    }));
  }

  /** Re-sealed secrets (rekey): not a configuration change, so updated_at stays. */
  async replaceSecrets(tx: Sql, sealed: SealedSecrets, keyId: string): Promise<void> {
    await tx.query(
      `UPDATE webhook_endpoints SET secret_sealed = $3, secret_key_id = $5, previous_secret_sealed = $4,
              previous_secret_key_id = CASE WHEN $4::text IS NULL THEN NULL ELSE $5 END
       WHERE tenant_id = $1 AND id = $2`,
      [sealed.tenantId, sealed.id, sealed.secretSealed, sealed.previousSecretSealed, keyId],
    );
  }
}
