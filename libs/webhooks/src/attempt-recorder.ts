import { Injectable, Logger } from '@nestjs/common';
import { BatchedCall, Clock, Database, LedgerlineConfig } from '@app/platform';
import { EventStore } from '@app/events';
import { decideBatch, DeliveryOutcomePolicy } from './delivery-outcome-policy';
import { AttemptRepository } from './attempt.repository';
import { AttemptRecord, RecordedAttempt } from './delivery';
import { parseSchedule } from './retry-schedule';
import { EndpointSnapshots } from './endpoint-snapshots';

const SYSTEM = { type: 'system', id: 'ledgerline' } as const;

/**
 * Where an attempt's consequences are decided and recorded. Attempts from
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
    private readonly attempts: AttemptRepository,
    private readonly store: EventStore,
    private readonly clock: Clock,
    private readonly snapshots: EndpointSnapshots,
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
      return this.attempts.write(this.db, records, batch.decisions, batch.endpoints);
    }
    let disabled: { tenantId: string; endpointId: string; url: string; reason: string }[] = [];
    const recorded = await this.db.transaction(async (tx) => {
      const locked = await this.attempts.lockHistories(tx, records);
      const histories = new Map([...locked].map(([id, l]) => [id, l.history]));
      const batch = decideBatch(this.policy, records, histories, now);
      const result = await this.attempts.write(tx, records, batch.decisions, batch.endpoints);
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
    for (const d of disabled) {
      this.snapshots.forget(d.tenantId, d.endpointId);
      this.logger.warn(`endpoint ${d.endpointId} disabled: ${d.reason}`);
    }
    return recorded;
  }
}
