import { Injectable } from '@nestjs/common';
import { Sql } from '@app/platform';
import { FailureHistory, OutcomeDecision } from './delivery-outcome-policy';
import { AttemptRecord, RecordedAttempt } from './delivery';

export interface LockedHistory {
  tenantId: string;
  url: string;
  history: FailureHistory;
}

export type EndpointOutcomes = Map<
  string,
  { history: FailureHistory; disableReason: string | null }
>;

/**
 * SQL for recording attempts: the endpoints' failure histories under lock, and one statement
 * that writes a batch's attempts, deliveries, histories and disabling.
 */
@Injectable()
export class AttemptRepository {
  /** The batch's endpoints' failure histories, locked in key order (no deadlock between batches). */
  async lockHistories(tx: Sql, records: AttemptRecord[]): Promise<Map<string, LockedHistory>> {
    const keys = [...new Map(records.map((r) => [r.endpointId, r.tenantId]))];
    const rows = await tx.query<{
      tenant_id: string;
      id: string;
      url: string;
      status: string;
      consecutive_failures: number;
      failing_since: Date | null;
    }>(
      `SELECT e.tenant_id, e.id, e.url, e.status, e.consecutive_failures, e.failing_since
       FROM webhook_endpoints e JOIN unnest($1::uuid[], $2::uuid[]) AS k(tenant_id, id)
         ON e.tenant_id = k.tenant_id AND e.id = k.id
       ORDER BY e.tenant_id, e.id FOR UPDATE OF e`,
      [keys.map(([, t]) => t), keys.map(([id]) => id)],
      'endpoint_failure_history',
    );
    return new Map(
      rows.map((r) => [
        r.id,
        {
          tenantId: r.tenant_id,
          url: r.url,
          history: {
            failures: r.consecutive_failures,
            since: r.failing_since,
            disabled: r.status !== 'enabled',
          },
        },
      ]),
    );
  }

  /**
   * Parking runs only when the batch disables an endpoint ($17, a one-time filter): otherwise a
   * plan that scans deliveries before it looks at the histories read every pending delivery of
   * the table for each batch (statistics from before a backlog make that scan look empty).
   */
  async write(
    sql: Sql,
    records: AttemptRecord[],
    decisions: OutcomeDecision[],
    endpoints: EndpointOutcomes,
  ): Promise<RecordedAttempt[]> {
    const tenantOf = new Map(records.map((r) => [r.endpointId, r.tenantId]));
    const ends = [...endpoints];
    const [row] = await sql.query<{ moved: string[] }>(
      `WITH input AS (
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::int[], $6::int[], $7::text[], $8::text[],
                              $9::text[], $10::int[], $11::int[])
           AS i(tenant_id, attempt_id, delivery_id, endpoint_id, status_code, duration_ms, error, response_body,
                status, delay_ms, attempt)),
       attempts AS (
         INSERT INTO webhook_attempts (tenant_id, id, delivery_id, endpoint_id, attempted_at, status_code, duration_ms, error, response_body)
         SELECT tenant_id, attempt_id, delivery_id, endpoint_id, now(), status_code, duration_ms, error, response_body FROM input),
       moved AS (
         UPDATE webhook_deliveries d SET status = i.status, attempt_count = d.attempt_count + 1, updated_at = now(),
                next_attempt_at = CASE WHEN i.status = 'pending' THEN now() + (i.delay_ms * interval '1 millisecond') END
         FROM input i
         WHERE d.tenant_id = i.tenant_id AND d.id = i.delivery_id AND d.status = 'pending' AND d.attempt_count = i.attempt
         RETURNING d.id),
       histories AS (
         SELECT * FROM unnest($12::uuid[], $13::uuid[], $14::int[], $15::timestamptz[], $16::text[])
           AS s(tenant_id, endpoint_id, failures, since, disable_reason)),
       streaks AS (
         UPDATE webhook_endpoints e
         SET consecutive_failures = s.failures, failing_since = s.since,
             status = CASE WHEN s.disable_reason IS NULL THEN e.status ELSE 'disabled' END,
             disabled_reason = coalesce(s.disable_reason, e.disabled_reason),
             updated_at = CASE WHEN s.disable_reason IS NULL THEN e.updated_at ELSE now() END
         FROM histories s
         WHERE e.tenant_id = s.tenant_id AND e.id = s.endpoint_id
           AND (e.consecutive_failures <> s.failures OR e.failing_since IS DISTINCT FROM s.since
                OR s.disable_reason IS NOT NULL)
         RETURNING e.id),
       parked AS (
         UPDATE webhook_deliveries d SET status = 'waiting', next_attempt_at = NULL, updated_at = now()
         FROM histories s
         WHERE $17::boolean AND s.disable_reason IS NOT NULL
           AND d.tenant_id = s.tenant_id AND d.endpoint_id = s.endpoint_id
           AND d.status = 'pending' AND d.id <> ALL($3::uuid[])
         RETURNING d.id)
       SELECT (SELECT coalesce(array_agg(id), '{}') FROM moved) AS moved,
              (SELECT count(*) FROM streaks) + (SELECT count(*) FROM parked) AS changed`,
      [
        records.map((r) => r.tenantId),
        records.map((r) => r.attemptId),
        records.map((r) => r.deliveryId),
        records.map((r) => r.endpointId),
        records.map((r) => r.result.statusCode),
        records.map((r) => r.durationMs),
        records.map((r) => r.result.error),
        records.map((r) => r.responseBody),
        decisions.map((d) => d.status),
        decisions.map((d) => d.delayMs ?? 0),
        records.map((r) => r.attempt),
        ends.map(([id]) => tenantOf.get(id)),
        ends.map(([id]) => id),
        ends.map(([, e]) => e.history.failures),
        ends.map(([, e]) => e.history.since),
        ends.map(([, e]) => e.disableReason),
        ends.some(([, e]) => e.disableReason !== null),
      ],
      'attempts_record_batch',
    );
    const moved = new Set(row.moved);
    return records.map((r, i) => ({ moved: moved.has(r.deliveryId), decision: decisions[i] }));
  }
}
