import { Injectable } from '@nestjs/common';
import { BatchedCall, Database, Sql } from '@app/platform';
import { DeliveryStatus } from './dto/endpoint.dto';
import {
  Attempt,
  ClaimedAttempt,
  Delivery,
  DueDelivery,
  NewDelivery,
  SlowLaneCandidate,
} from './delivery';
import { EndpointRow, toEndpoint } from './webhook-endpoint.repository';

interface DeliveryRow {
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

interface AttemptRow {
  delivery_id: string;
  attempted_at: Date;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  response_body: string | null;
}

type DueRow = Pick<
  DeliveryRow,
  'tenant_id' | 'id' | 'endpoint_id' | 'event_id' | 'attempt_count' | 'status'
>;

const DUE_COLUMNS = 'tenant_id, id, endpoint_id, event_id, attempt_count, status';

function toDue(r: DueRow): DueDelivery {
  return {
    tenantId: r.tenant_id,
    id: r.id,
    endpointId: r.endpoint_id,
    eventId: r.event_id,
    attemptCount: r.attempt_count,
    status: r.status,
  };
}

function toDelivery(r: DeliveryRow): Delivery {
  return {
    tenantId: r.tenant_id,
    id: r.id,
    endpointId: r.endpoint_id,
    eventId: r.event_id,
    eventType: r.event_type,
    status: r.status,
    attemptCount: r.attempt_count,
    nextAttemptAt: r.next_attempt_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

interface ClaimInput {
  tenantId: string;
  id: string;
  attempt: number;
  leaseMs: number;
}

type UnclaimInput = Omit<ClaimInput, 'leaseMs'>;

type ClaimedRow = EndpointRow & { delivery_id: string; attempt: number; event_id: string };

/** What both claims load after their UPDATE (a CTE named `claimed`): the endpoint. */
const LOAD_CLAIMED = `SELECT e.*, c.delivery_id, c.attempt, c.event_id
       FROM claimed c JOIN webhook_endpoints e ON e.tenant_id = c.tenant_id AND e.id = c.endpoint_id`;

function toClaimed({ delivery_id, attempt, event_id, ...endpoint }: ClaimedRow): ClaimedAttempt {
  return { deliveryId: delivery_id, attempt, eventId: event_id, endpoint: toEndpoint(endpoint) };
}

@Injectable()
export class WebhookDeliveryRepository {
  constructor(private readonly db: Database) {}

  /**
   * Inserts deliveries, skipping (event, endpoint) pairs that already have one. A `leased` row
   * is claimed for its first attempt by the caller, for `leaseMs` from the insert (see
   * DeliveryHandoff); other pending rows are due at once.
   */
  async insertMany(
    sql: Sql,
    tenantId: string,
    rows: NewDelivery[],
    leaseMs = 0,
  ): Promise<DueDelivery[]> {
    if (!rows.length) return [];
    const created = await sql.query<DueRow>(
      `INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, event_id, event_type, status, next_attempt_at)
       SELECT $1, d.id, d.endpoint_id, d.event_id, d.event_type, d.status,
              CASE WHEN d.status <> 'pending' THEN NULL
                   WHEN d.leased THEN clock_timestamp() + ($8::int * interval '1 millisecond')
                   ELSE now() END
       FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::bool[])
            AS d(id, endpoint_id, event_id, event_type, status, leased)
       ON CONFLICT (tenant_id, event_id, endpoint_id) DO NOTHING
       RETURNING ${DUE_COLUMNS}`,
      [
        tenantId,
        rows.map((r) => r.id),
        rows.map((r) => r.endpointId),
        rows.map((r) => r.eventId),
        rows.map((r) => r.eventType),
        rows.map((r) => r.status),
        rows.map((r) => r.leased === true),
        leaseMs,
      ],
      'deliveries_insert',
    );
    return created.map(toDue);
  }

  // Claims from concurrent jobs go to PostgreSQL together: one statement per batch.
  private readonly claims = new BatchedCall<ClaimInput, ClaimedAttempt | null>((inputs) =>
    this.claimMany(inputs),
  );

  /**
   * Takes the right to make attempt `attempt` now (only one job wins; the lease keeps the
   * sweeper away until the attempt is recorded or, after a crash, runs out) and loads the
   * endpoint (only if enabled).
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
      // `coalesce(next_attempt_at, 'infinity')` (NULL is never due, as before) matches no index:
      // a plain `next_attempt_at <= …` let PostgreSQL answer through the due index, which such
      // statistics make look nearly empty, and it read every due delivery for each claim.
      `WITH input AS (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[]) AS i(tenant_id, id, attempt)),
       due AS MATERIALIZED (
         SELECT d.tenant_id, d.id, d.endpoint_id, i.attempt FROM input i
         JOIN webhook_deliveries d ON d.tenant_id = i.tenant_id AND d.id = i.id
         WHERE d.status = 'pending' AND d.attempt_count = i.attempt
           AND coalesce(d.next_attempt_at, 'infinity') <= now() + interval '1 second'),
       ready AS MATERIALIZED (
         SELECT due.tenant_id, due.id, due.attempt FROM due
         JOIN webhook_endpoints e ON e.tenant_id = due.tenant_id AND e.id = due.endpoint_id
         WHERE e.status = 'enabled' AND e.deleted_at IS NULL),
       claimed AS (
         UPDATE webhook_deliveries d SET next_attempt_at = now() + ($4::int * interval '1 millisecond')
         FROM ready r
         WHERE d.tenant_id = r.tenant_id AND d.id = r.id AND d.status = 'pending' AND d.attempt_count = r.attempt
           AND coalesce(d.next_attempt_at, 'infinity') <= now() + interval '1 second'
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
   * Due deliveries of endpoints marked slow (not those in `skip`, which have their share in
   * flight), at most `perEndpoint` each, oldest first within an endpoint. Ranked so that every
   * tenant's first candidates come before any tenant's later ones: a tenant with many slow
   * endpoints cannot crowd the others out of the list.
   */
  async slowLaneCandidates(
    limit: number,
    perEndpoint: number,
    skip: string[],
  ): Promise<SlowLaneCandidate[]> {
    const rows = await this.db.query<{ tenant_id: string; endpoint_id: string; id: string }>(
      `SELECT tenant_id, endpoint_id, id FROM (
         SELECT d.tenant_id, e.id AS endpoint_id, d.id, d.next_attempt_at,
                row_number() OVER (PARTITION BY d.tenant_id ORDER BY d.rank, d.next_attempt_at) AS tenant_rank
         FROM webhook_endpoints e
         CROSS JOIN LATERAL (
           SELECT d.tenant_id, d.id, d.next_attempt_at,
                  row_number() OVER (ORDER BY d.next_attempt_at) AS rank
           FROM webhook_deliveries d
           WHERE d.tenant_id = e.tenant_id AND d.endpoint_id = e.id AND d.status = 'pending'
             AND d.next_attempt_at <= now()
           ORDER BY d.next_attempt_at LIMIT $2) d
         WHERE e.slow_until > now() AND e.status = 'enabled' AND e.deleted_at IS NULL
           AND e.id <> ALL($3::uuid[])) ranked
       ORDER BY tenant_rank, next_attempt_at LIMIT $1`,
      [limit, perEndpoint, skip],
      'delivery_slow_lane_candidates',
    );
    return rows.map((r) => ({
      tenantId: r.tenant_id,
      endpointId: r.endpoint_id,
      deliveryId: r.id,
    }));
  }

  /** Claims the picked slow-lane candidates that are still due (another worker may have won). */
  async claimSlowLane(picked: SlowLaneCandidate[], leaseMs: number): Promise<ClaimedAttempt[]> {
    if (!picked.length) return [];
    const rows = await this.db.query<ClaimedRow>(
      `WITH claimed AS (
         UPDATE webhook_deliveries d SET next_attempt_at = now() + ($3::int * interval '1 millisecond')
         FROM unnest($1::uuid[], $2::uuid[]) AS p(tenant_id, id)
         WHERE d.tenant_id = p.tenant_id AND d.id = p.id AND d.status = 'pending'
           AND coalesce(d.next_attempt_at, 'infinity') <= now() -- not by the due index (claimMany)
         RETURNING d.tenant_id, d.id AS delivery_id, d.event_id, d.endpoint_id, d.attempt_count AS attempt)
       ${LOAD_CLAIMED} WHERE e.status = 'enabled' AND e.deleted_at IS NULL`,
      [picked.map((p) => p.tenantId), picked.map((p) => p.deliveryId), leaseMs],
      'delivery_claim_slow_lane',
    );
    return rows.map(toClaimed);
  }

  // Claims given back together: a slow endpoint's held fresh deliveries all come back at once.
  private readonly unclaims = new BatchedCall<UnclaimInput, void>((inputs) =>
    this.unclaimMany(inputs),
  );

  /** Gives a claimed attempt back (rate limited, slow, stale or not made): due again at once. */
  unclaim(tenantId: string, id: string, attempt: number): Promise<void> {
    return this.unclaims.call({ tenantId, id, attempt });
  }

  private async unclaimMany(inputs: UnclaimInput[]): Promise<void[]> {
    await this.db.query(
      `UPDATE webhook_deliveries d SET next_attempt_at = now()
       FROM unnest($1::uuid[], $2::uuid[], $3::int[]) AS u(tenant_id, id, attempt)
       WHERE d.tenant_id = u.tenant_id AND d.id = u.id AND d.status = 'pending' AND d.attempt_count = u.attempt`,
      [inputs.map((i) => i.tenantId), inputs.map((i) => i.id), inputs.map((i) => i.attempt)],
      'delivery_unclaim_batch',
    );
    return inputs.map(() => undefined);
  }

  /** Overdue pending deliveries whose jobs Redis may have lost (fast-lane endpoints only). */
  async overdue(graceMs: number, limit: number): Promise<DueDelivery[]> {
    const rows = await this.db.query<DueRow>(
      // A slow endpoint's backlog is the slow lane's to take, not lost work.
      `SELECT d.tenant_id, d.id, d.endpoint_id, d.attempt_count, d.status FROM webhook_deliveries d
       WHERE d.status = 'pending' AND d.next_attempt_at <= now() - ($1::int * interval '1 millisecond')
         AND NOT EXISTS (SELECT 1 FROM webhook_endpoints e
                         WHERE e.tenant_id = d.tenant_id AND e.id = d.endpoint_id AND e.slow_until > now())
       ORDER BY d.next_attempt_at LIMIT $2`,
      [graceMs, limit],
      'deliveries_overdue',
    );
    return rows.map(toDue);
  }

  async dueForEndpoint(sql: Sql, tenantId: string, endpointId: string): Promise<DueDelivery[]> {
    const rows = await sql.query<DueRow>(
      `SELECT ${DUE_COLUMNS} FROM webhook_deliveries
       WHERE tenant_id = $1 AND endpoint_id = $2 AND status = 'pending' AND next_attempt_at <= now()`,
      [tenantId, endpointId],
    );
    return rows.map(toDue);
  }

  async list(
    tenantId: string,
    endpointId: string,
    status: DeliveryStatus | undefined,
    before: string | null,
    limit: number,
  ): Promise<Delivery[]> {
    const rows = await this.db.query<DeliveryRow>(
      `SELECT * FROM webhook_deliveries
       WHERE tenant_id = $1 AND endpoint_id = $2 AND ($3::text IS NULL OR status = $3)
         AND ($4::uuid IS NULL OR id < $4)
       ORDER BY id DESC LIMIT $5`,
      [tenantId, endpointId, status ?? null, before, limit],
    );
    return rows.map(toDelivery);
  }

  async attemptsFor(tenantId: string, deliveryIds: string[]): Promise<Attempt[]> {
    const rows = await this.db.query<AttemptRow>(
      `SELECT delivery_id, attempted_at, status_code, duration_ms, error, response_body FROM webhook_attempts
       WHERE tenant_id = $1 AND delivery_id = ANY($2::uuid[]) ORDER BY attempted_at`,
      [tenantId, deliveryIds],
    );
    return rows.map((a) => ({
      deliveryId: a.delivery_id,
      attemptedAt: a.attempted_at,
      statusCode: a.status_code,
      durationMs: a.duration_ms,
      error: a.error,
      responseBody: a.response_body,
    }));
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

  async get(tenantId: string, id: string): Promise<Delivery | null> {
    const [row] = await this.db.query<DeliveryRow>(
      `SELECT * FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    return row ? toDelivery(row) : null;
  }

  /** A manual retry: pending and due now, or waiting while the endpoint is disabled. */
  async resend(
    tenantId: string,
    id: string,
    status: 'pending' | 'waiting',
  ): Promise<DueDelivery | null> {
    const [row] = await this.db.query<DueRow>(
      `UPDATE webhook_deliveries SET status = $3, next_attempt_at = CASE WHEN $3 = 'pending' THEN now() END,
              updated_at = now()
       WHERE tenant_id = $1 AND id = $2 RETURNING ${DUE_COLUMNS}`,
      [tenantId, id, status],
    );
    return row ? toDue(row) : null;
  }

  /** Recover: the endpoint's failed or waiting deliveries of these events start afresh. */
  async resendForEvents(
    sql: Sql,
    tenantId: string,
    endpointId: string,
    eventIds: string[],
    status: 'pending' | 'waiting',
  ): Promise<number> {
    if (!eventIds.length) return 0;
    const rows = await sql.query(
      `UPDATE webhook_deliveries SET status = $4, attempt_count = 0, updated_at = now(),
              next_attempt_at = CASE WHEN $4 = 'pending' THEN now() END
       WHERE tenant_id = $1 AND endpoint_id = $2 AND event_id = ANY($3::uuid[])
         AND status IN ('failed', 'waiting')
       RETURNING id`,
      [tenantId, endpointId, eventIds, status],
    );
    return rows.length;
  }

  /** A deleted endpoint's open deliveries fail. */
  async failOpen(sql: Sql, tenantId: string, endpointId: string): Promise<void> {
    await sql.query(
      `UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, updated_at = now()
       WHERE tenant_id = $1 AND endpoint_id = $2 AND status IN ('pending', 'waiting')`,
      [tenantId, endpointId],
    );
  }

  /** An enabled endpoint's waiting deliveries are due now. */
  async releaseWaiting(sql: Sql, tenantId: string, endpointId: string): Promise<void> {
    await sql.query(
      `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), updated_at = now()
       WHERE tenant_id = $1 AND endpoint_id = $2 AND status = 'waiting'`,
      [tenantId, endpointId],
    );
  }
}
