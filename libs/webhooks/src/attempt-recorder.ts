import { Injectable, Logger } from '@nestjs/common';
import { BatchedCall, Clock, Database, LedgerlineConfig, Sql } from '@app/platform';
import { EventStore } from '@app/events';
import {
  AttemptResult,
  decideBatch,
  DeliveryOutcomePolicy,
  FailureHistory,
  OutcomeDecision,
} from './delivery-outcome-policy';
import { parseSchedule } from './retry-schedule';

export interface AttemptRecord {
  tenantId: string;
  attemptId: string;
  deliveryId: string;
  endpointId: string;
  attempt: number;
  result: AttemptResult;
  durationMs: number;
  responseBody: string | null;
}

export interface RecordedAttempt {
  /** False when the delivery had moved on (disabled, deleted, retried by hand) meanwhile. */
  moved: boolean;
  decision: OutcomeDecision;
}

const SYSTEM = { type: 'system', id: 'ledgerline' } as const;

/**
 * The attempts' repository, and where an attempt's consequences are decided. Attempts from
 * concurrent jobs are recorded together: the attempt rows, each delivery's move (only if it is
 * still that attempt's), each endpoint's failure history and, when the policy says so, its
 * disabling with the `webhook.endpoint.disabled` event, all in one transaction. Only after it
 * commits does the dispatcher schedule a next attempt, and only one the decision left pending:
 * a disabled endpoint never gets one.
 */
@Injectable()
export class AttemptRecorder {
  private readonly logger = new Logger(AttemptRecorder.name);
  private readonly policy: DeliveryOutcomePolicy;
  private readonly batches = new BatchedCall<AttemptRecord, RecordedAttempt>((records) =>
    this.recordMany(records),
  );

  constructor(
    private readonly db: Database,
    private readonly store: EventStore,
    private readonly clock: Clock,
    config: LedgerlineConfig,
  ) {
    this.policy = new DeliveryOutcomePolicy({
      schedule: parseSchedule(config.WEBHOOK_RETRY_SCHEDULE),
      disableAfterFailures: config.WEBHOOK_DISABLE_AFTER_FAILURES,
      disableAfterMs: config.WEBHOOK_DISABLE_AFTER_SECONDS * 1000,
    });
  }

  record(record: AttemptRecord): Promise<RecordedAttempt> {
    return this.batches.call(record);
  }

  private async recordMany(records: AttemptRecord[]): Promise<RecordedAttempt[]> {
    const now = this.clock.now();
    // Successes need no history: they reset it. Failures read it under lock, so two batches
    // cannot both count from the same streak.
    if (records.every((r) => r.result.error === null)) {
      const batch = decideBatch(this.policy, records, new Map(), now);
      return this.write(this.db, records, batch.decisions, batch.endpoints);
    }
    let disabled: { tenantId: string; endpointId: string; url: string; reason: string }[] = [];
    const recorded = await this.db.transaction(async (tx) => {
      const locked = await this.lockHistories(tx, records);
      const histories = new Map([...locked].map(([id, l]) => [id, l.history]));
      const batch = decideBatch(this.policy, records, histories, now);
      const result = await this.write(tx, records, batch.decisions, batch.endpoints);
      disabled = [...batch.endpoints]
        .filter(([id, e]) => e.disableReason !== null && locked.has(id))
        .map(([id, e]) => ({ ...locked.get(id)!, endpointId: id, reason: e.disableReason! }));
      for (const d of disabled) {
        await this.store.record(tx, {
          tenantId: d.tenantId,
          type: 'webhook.endpoint.disabled',
          subject: `webhook_endpoint/${d.endpointId}`,
          actor: SYSTEM,
          data: { endpointId: d.endpointId, url: d.url, reason: d.reason },
        });
      }
      return result;
    });
    if (disabled.length) this.store.announce();
    for (const d of disabled) this.logger.warn(`endpoint ${d.endpointId} disabled: ${d.reason}`);
    return recorded;
  }

  /** The batch's endpoints' failure histories, locked in key order (no deadlock between batches). */
  private async lockHistories(
    tx: Sql,
    records: AttemptRecord[],
  ): Promise<Map<string, { tenantId: string; url: string; history: FailureHistory }>> {
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

  private async write(
    sql: Sql,
    records: AttemptRecord[],
    decisions: OutcomeDecision[],
    endpoints: Map<string, { history: FailureHistory; disableReason: string | null }>,
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
         WHERE s.disable_reason IS NOT NULL AND d.tenant_id = s.tenant_id AND d.endpoint_id = s.endpoint_id
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
      ],
      'attempts_record_batch',
    );
    const moved = new Set(row.moved);
    return records.map((r, i) => ({ moved: moved.has(r.deliveryId), decision: decisions[i] }));
  }
}
