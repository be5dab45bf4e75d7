import { Injectable } from '@nestjs/common';
import { BatchedCall, Database } from '@app/platform';

export interface AttemptRecord {
  tenantId: string;
  attemptId: string;
  deliveryId: string;
  endpointId: string;
  attempt: number;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseBody: string | null;
  ok: boolean;
  /** The delivery's next status, and the delay before the next attempt when it stays pending. */
  status: 'pending' | 'succeeded' | 'failed' | 'waiting';
  delayMs: number;
}

export interface RecordedAttempt {
  /** False when the delivery had moved on (disabled, deleted, retried by hand) meanwhile. */
  moved: boolean;
  /** The endpoint's failure streak after this batch (null when it has none). */
  streak: { failures: number; since: Date } | null;
}

interface StreakChange {
  tenantId: string;
  endpointId: string;
  reset: boolean;
  trailing: number;
}

/** Per endpoint: did the batch hold a success, and how many failures came after the last one. */
export function streakChanges(records: AttemptRecord[]): StreakChange[] {
  const changes = new Map<string, StreakChange>();
  for (const r of records) {
    const c = changes.get(r.endpointId) ?? {
      tenantId: r.tenantId,
      endpointId: r.endpointId,
      reset: false,
      trailing: 0,
    };
    if (r.ok) {
      c.reset = true;
      c.trailing = 0;
    } else {
      c.trailing++;
    }
    changes.set(r.endpointId, c);
  }
  return [...changes.values()];
}

/**
 * Records attempts from concurrent jobs in one statement per batch: the attempt rows, each
 * delivery's move (only if it is still that attempt's) and each endpoint's failure streak.
 */
@Injectable()
export class AttemptRecorder {
  private readonly batches = new BatchedCall<AttemptRecord, RecordedAttempt>((records) =>
    this.recordMany(records),
  );

  constructor(private readonly db: Database) {}

  record(record: AttemptRecord): Promise<RecordedAttempt> {
    return this.batches.call(record);
  }

  private async recordMany(records: AttemptRecord[]): Promise<RecordedAttempt[]> {
    const streaks = streakChanges(records);
    const [row] = await this.db.query<{
      moved: string[];
      streaks: { id: string; consecutive_failures: number; failing_since: string | null }[];
    }>(
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
       streaks AS (
         UPDATE webhook_endpoints e
         SET consecutive_failures = CASE WHEN s.reset THEN s.tail_failures ELSE e.consecutive_failures + s.tail_failures END,
             failing_since = CASE WHEN s.tail_failures = 0 THEN NULL
                                  WHEN s.reset OR e.failing_since IS NULL THEN now() ELSE e.failing_since END
         FROM unnest($12::uuid[], $13::uuid[], $14::bool[], $15::int[]) AS s(tenant_id, endpoint_id, reset, tail_failures)
         WHERE e.tenant_id = s.tenant_id AND e.id = s.endpoint_id AND (s.tail_failures > 0 OR e.consecutive_failures > 0)
         RETURNING e.id, e.consecutive_failures, e.failing_since)
       SELECT (SELECT coalesce(array_agg(id), '{}') FROM moved) AS moved,
              (SELECT coalesce(json_agg(streaks), '[]') FROM streaks) AS streaks`,
      [
        records.map((r) => r.tenantId),
        records.map((r) => r.attemptId),
        records.map((r) => r.deliveryId),
        records.map((r) => r.endpointId),
        records.map((r) => r.statusCode),
        records.map((r) => r.durationMs),
        records.map((r) => r.error),
        records.map((r) => r.responseBody),
        records.map((r) => r.status),
        records.map((r) => r.delayMs),
        records.map((r) => r.attempt),
        streaks.map((s) => s.tenantId),
        streaks.map((s) => s.endpointId),
        streaks.map((s) => s.reset),
        streaks.map((s) => s.trailing),
      ],
      'attempts_record_batch',
    );
    const moved = new Set(row.moved);
    const byEndpoint = new Map(
      row.streaks
        .filter((s) => s.consecutive_failures > 0 && s.failing_since)
        .map((s) => [
          s.id,
          { failures: s.consecutive_failures, since: new Date(s.failing_since!) },
        ]),
    );
    return records.map((r) => ({
      moved: moved.has(r.deliveryId),
      streak: byEndpoint.get(r.endpointId) ?? null,
    }));
  }
}
