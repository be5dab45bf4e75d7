import { Injectable } from '@nestjs/common';
import { BatchedCall, Database, Sql } from '@app/platform';
import { DeliveryStatus } from './dto/endpoint.dto';
import { EndpointRow } from './webhook-endpoint.repository';

export interface DeliveryRow {
  tenant_id: string;
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempt_count: number;
  next_attempt_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface AttemptRow {
  delivery_id: string;
  attempted_at: Date;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  response_body: string | null;
}

/** An events row as row_to_json gives it (timestamps as strings). */
export interface ClaimedEventRow {
  id: string;
  type: string;
  subject: string | null;
  actor_type: string;
  actor_id: string;
  acting_as_tenant_id: string | null;
  occurred_at: string;
  received_at: string;
  data: Record<string, unknown>;
}

interface ClaimInput {
  tenantId: string;
  id: string;
  attempt: number;
  leaseMs: number;
}

export interface ClaimedAttempt {
  deliveryId: string;
  /** The attempt number the claim took. */
  attempt: number;
  endpoint: EndpointRow;
  event: ClaimedEventRow | null;
}

type ClaimedRow = EndpointRow & {
  delivery_id: string;
  attempt: number;
  event: ClaimedEventRow | null;
};

/** What both claims load after their UPDATE (a CTE named `claimed`): endpoint and event. */
const LOAD_CLAIMED = `SELECT e.*, c.delivery_id, c.attempt,
         (SELECT row_to_json(ev) FROM events ev WHERE ev.tenant_id = c.tenant_id AND ev.id = c.event_id) AS event
       FROM claimed c JOIN webhook_endpoints e ON e.tenant_id = c.tenant_id AND e.id = c.endpoint_id`;

function toClaimed({ delivery_id, attempt, event, ...endpoint }: ClaimedRow): ClaimedAttempt {
  return { deliveryId: delivery_id, attempt, endpoint, event };
}

export interface NewDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  status: 'pending' | 'waiting';
}

export interface DueDelivery {
  tenant_id: string;
  id: string;
  endpoint_id: string;
  attempt_count: number;
}

@Injectable()
export class WebhookDeliveryRepository {
  constructor(private readonly db: Database) {}

  /** Inserts deliveries, skipping (event, endpoint) pairs that already have one. */
  async insertMany(sql: Sql, tenantId: string, rows: NewDelivery[]): Promise<DueDelivery[]> {
    if (!rows.length) return [];
    return sql.query<DueDelivery>(
      `INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, event_id, event_type, status, next_attempt_at)
       SELECT $1, d.id, d.endpoint_id, d.event_id, d.event_type, d.status,
              CASE WHEN d.status = 'pending' THEN now() END
       FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[])
            AS d(id, endpoint_id, event_id, event_type, status)
       ON CONFLICT (tenant_id, event_id, endpoint_id) DO NOTHING
       RETURNING tenant_id, id, endpoint_id, attempt_count`,
      [
        tenantId,
        rows.map((r) => r.id),
        rows.map((r) => r.endpointId),
        rows.map((r) => r.eventId),
        rows.map((r) => r.eventType),
        rows.map((r) => r.status),
      ],
      'deliveries_insert',
    );
  }

  // Claims from concurrent jobs go to PostgreSQL together: one statement per batch.
  private readonly claims = new BatchedCall<ClaimInput, ClaimedAttempt | null>((inputs) =>
    this.claimMany(inputs),
  );

  /**
   * Takes the right to make attempt `attempt` now (only one job wins; the lease keeps the
   * sweeper away until the attempt is recorded or, after a crash, runs out) and loads what it
   * needs: the endpoint (only if enabled) and the event (null once erased).
   */
  claimForAttempt(
    tenantId: string,
    id: string,
    attempt: number,
    leaseMs: number,
  ): Promise<ClaimedAttempt | null> {
    return this.claims.call({ tenantId, id, attempt, leaseMs });
  }

  private async claimMany(inputs: ClaimInput[]): Promise<(ClaimedAttempt | null)[]> {
    const rows = await this.db.query<ClaimedRow>(
      // Deliveries are found by primary key alone, before their endpoints are joined: with stale
      // statistics a plan that walked each endpoint's deliveries instead read thousands of rows
      // per claim. The UPDATE repeats the checks, so a row that moved meanwhile is not claimed.
      `WITH input AS (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[]) AS i(tenant_id, id, attempt)),
       due AS MATERIALIZED (
         SELECT d.tenant_id, d.id, d.endpoint_id, i.attempt FROM input i
         JOIN webhook_deliveries d ON d.tenant_id = i.tenant_id AND d.id = i.id
         WHERE d.status = 'pending' AND d.attempt_count = i.attempt
           AND d.next_attempt_at <= now() + interval '1 second'),
       ready AS MATERIALIZED (
         SELECT due.tenant_id, due.id, due.attempt FROM due
         JOIN webhook_endpoints e ON e.tenant_id = due.tenant_id AND e.id = due.endpoint_id
         WHERE e.status = 'enabled' AND e.deleted_at IS NULL),
       claimed AS (
         UPDATE webhook_deliveries d SET next_attempt_at = now() + ($4::int * interval '1 millisecond')
         FROM ready r
         WHERE d.tenant_id = r.tenant_id AND d.id = r.id AND d.status = 'pending' AND d.attempt_count = r.attempt
           AND d.next_attempt_at <= now() + interval '1 second'
         RETURNING d.tenant_id, d.id AS delivery_id, d.event_id, d.endpoint_id, d.attempt_count AS attempt)
       ${LOAD_CLAIMED}`,
      [
        inputs.map((i) => i.tenantId),
        inputs.map((i) => i.id),
        inputs.map((i) => i.attempt),
        inputs[0].leaseMs,
      ],
      'delivery_claim_batch',
    );
    const byDelivery = new Map(rows.map((r) => [r.delivery_id, r]));
    return inputs.map((input) => {
      const row = byDelivery.get(input.id);
      if (!row) return null;
      byDelivery.delete(input.id); // a duplicate job in the same batch gets nothing
      return toClaimed(row);
    });
  }

  /**
   * The slow lane's claim: due deliveries of endpoints marked slow (but not those in `skip`,
   * which have their share in flight), at most `perEndpoint` each and `limit` in all, oldest
   * first, leased like claimForAttempt's.
   */
  async claimSlowLane(
    limit: number,
    perEndpoint: number,
    leaseMs: number,
    skip: string[],
  ): Promise<ClaimedAttempt[]> {
    const rows = await this.db.query<ClaimedRow>(
      `WITH picked AS MATERIALIZED (
         SELECT d.tenant_id, d.id FROM webhook_endpoints e
         CROSS JOIN LATERAL (
           SELECT d.tenant_id, d.id FROM webhook_deliveries d
           WHERE d.tenant_id = e.tenant_id AND d.endpoint_id = e.id AND d.status = 'pending'
             AND d.next_attempt_at <= now()
           ORDER BY d.next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED) d
         WHERE e.slow_until > now() AND e.status = 'enabled' AND e.deleted_at IS NULL
           AND e.id <> ALL($4::uuid[])
         LIMIT $1),
       claimed AS (
         UPDATE webhook_deliveries d SET next_attempt_at = now() + ($3::int * interval '1 millisecond')
         FROM picked p
         WHERE d.tenant_id = p.tenant_id AND d.id = p.id
         RETURNING d.tenant_id, d.id AS delivery_id, d.event_id, d.endpoint_id, d.attempt_count AS attempt)
       ${LOAD_CLAIMED}`,
      [limit, perEndpoint, leaseMs, skip],
      'delivery_claim_slow_lane',
    );
    return rows.map(toClaimed);
  }

  /** Gives a claimed attempt back (rate limited): due again at once. */
  async unclaim(tenantId: string, id: string): Promise<void> {
    await this.db.query(
      `UPDATE webhook_deliveries SET next_attempt_at = now() WHERE tenant_id = $1 AND id = $2 AND status = 'pending'`,
      [tenantId, id],
    );
  }

  /** Overdue pending deliveries whose jobs Redis may have lost (fast-lane endpoints only). */
  overdue(graceMs: number, limit: number): Promise<DueDelivery[]> {
    return this.db.query<DueDelivery>(
      // A slow endpoint's backlog is the slow lane's to take, not lost work.
      `SELECT d.tenant_id, d.id, d.endpoint_id, d.attempt_count FROM webhook_deliveries d
       WHERE d.status = 'pending' AND d.next_attempt_at <= now() - ($1::int * interval '1 millisecond')
         AND NOT EXISTS (SELECT 1 FROM webhook_endpoints e
                         WHERE e.tenant_id = d.tenant_id AND e.id = d.endpoint_id AND e.slow_until > now())
       ORDER BY d.next_attempt_at LIMIT $2`,
      [graceMs, limit],
      'deliveries_overdue',
    );
  }

  dueForEndpoint(sql: Sql, tenantId: string, endpointId: string): Promise<DueDelivery[]> {
    return sql.query<DueDelivery>(
      `SELECT tenant_id, id, endpoint_id, attempt_count FROM webhook_deliveries
       WHERE tenant_id = $1 AND endpoint_id = $2 AND status = 'pending' AND next_attempt_at <= now()`,
      [tenantId, endpointId],
    );
  }

  list(
    tenantId: string,
    endpointId: string,
    status: DeliveryStatus | undefined,
    before: string | null,
    limit: number,
  ): Promise<DeliveryRow[]> {
    return this.db.query<DeliveryRow>(
      `SELECT * FROM webhook_deliveries
       WHERE tenant_id = $1 AND endpoint_id = $2 AND ($3::text IS NULL OR status = $3)
         AND ($4::uuid IS NULL OR id < $4)
       ORDER BY id DESC LIMIT $5`,
      [tenantId, endpointId, status ?? null, before, limit],
    );
  }

  attemptsFor(tenantId: string, deliveryIds: string[]): Promise<AttemptRow[]> {
    return this.db.query<AttemptRow>(
      `SELECT delivery_id, attempted_at, status_code, duration_ms, error, response_body FROM webhook_attempts
       WHERE tenant_id = $1 AND delivery_id = ANY($2::uuid[]) ORDER BY attempted_at`,
      [tenantId, deliveryIds],
    );
  }

  async counts(
    tenantId: string,
    eventId: string,
  ): Promise<Record<'pending' | 'succeeded' | 'failed', number>> {
    const rows = await this.db.query<{ status: DeliveryStatus; n: number }>(
      `SELECT status, count(*)::int AS n FROM webhook_deliveries WHERE tenant_id = $1 AND event_id = $2 GROUP BY status`,
      [tenantId, eventId],
      'delivery_counts',
    );
    const counts = { pending: 0, succeeded: 0, failed: 0 };
    for (const r of rows) {
      if (r.status === 'waiting') counts.pending += r.n;
      else counts[r.status] += r.n;
    }
    return counts;
  }

  async get(tenantId: string, id: string): Promise<DeliveryRow | null> {
    const [row] = await this.db.query<DeliveryRow>(
      `SELECT * FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    return row ?? null;
  }
}
