import { Injectable } from '@nestjs/common';
import { Clock, Metrics, QueueName, Tx } from '@app/platform';
import { StoredEvent, StreamConsumer, StreamConsumerDeps } from '@app/events';
import { PiiRedactor } from '@app/security';
import { AuditEntry, GENESIS_HASH, hashEntry } from './audit-entry';
import { CheckpointService } from './checkpoint.service';

/** Events that are published to webhooks only and belong to no chain. */
const UNCHAINED_TYPES = new Set(['audit.checkpoint']);

/**
 * Appends each tenant's new events to its `main` chain: lock the head, redact, canonicalise,
 * hash, insert the batch in one statement, move the head, all in the consumer's transaction.
 */
@Injectable()
export class AuditChainAppender extends StreamConsumer {
  readonly queue = QueueName.Audit as const;
  protected override readonly batchSize = 2000;
  private readonly redactor = new PiiRedactor();

  constructor(
    deps: StreamConsumerDeps,
    private readonly checkpoints: CheckpointService,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
  ) {
    super(deps);
  }

  protected async consume(tx: Tx, tenantId: string, events: StoredEvent[]): Promise<void> {
    const head = await this.lockHead(tx, tenantId);
    const candidates = events.filter((e) => !UNCHAINED_TYPES.has(e.type));
    if (!candidates.length) return;
    // The cursor and the head move in one transaction, so a replay is not expected; the unique
    // (tenant, chain, event) index is the safety net, and only then are present events skipped.
    await tx.query('SAVEPOINT audit_append');
    let appended = this.chain(tenantId, head, candidates, new Set());
    try {
      await this.insert(tx, appended.entries);
    } catch (err) {
      if ((err as { code?: string }).code !== '23505') throw err;
      await tx.query('ROLLBACK TO SAVEPOINT audit_append');
      appended = this.chain(
        tenantId,
        head,
        candidates,
        await this.present(tx, tenantId, candidates),
      );
      if (!appended.entries.length) return;
      await this.insert(tx, appended.entries);
    }
    const { seq, hash, entries } = appended;
    await tx.query(
      `UPDATE audit_chain_heads SET seq = $3, hash = $4, updated_at = now() WHERE tenant_id = $1 AND chain = $2`,
      [tenantId, 'main', seq, hash],
      'audit_head_move',
    );
    await this.checkpoints.maybeCheckpoint(tx, tenantId, 'main', entries);
    this.metrics.auditEntries.inc(entries.length);
  }

  /** Redacts, canonicalises and hashes the events onto the chain after `head`. */
  private chain(
    tenantId: string,
    head: { seq: number; hash: string },
    events: StoredEvent[],
    skip: Set<string>,
  ) {
    const recordedAt = this.clock.now().toISOString();
    let { seq, hash } = head;
    const entries: AuditEntry[] = [];
    for (const event of events) {
      if (skip.has(event.id)) continue;
      const unhashed = {
        seq: ++seq,
        chain: 'main' as const,
        tenantId,
        eventId: event.id,
        type: event.type,
        subject: event.subject === null ? null : this.redactor.redactString(event.subject),
        actor: { type: event.actor.type, id: this.redactor.redactString(event.actor.id) },
        actingAsTenantId: event.actingAsTenantId,
        data: this.redactor.redact(event.data),
        occurredAt: event.occurredAt.toISOString(),
        recordedAt,
      };
      const next = hashEntry(hash, unhashed);
      entries.push({ ...unhashed, prevHash: hash, hash: next });
      hash = next;
    }
    return { seq, hash, entries };
  }

  private async present(tx: Tx, tenantId: string, events: StoredEvent[]): Promise<Set<string>> {
    const rows = await tx.query<{ event_id: string }>(
      `SELECT event_id FROM audit_entries WHERE tenant_id = $1 AND chain = 'main' AND event_id = ANY($2::uuid[])`,
      [tenantId, events.map((e) => e.id)],
      'audit_present',
    );
    return new Set(rows.map((r) => r.event_id));
  }

  private async lockHead(tx: Tx, tenantId: string): Promise<{ seq: number; hash: string }> {
    await tx.query(
      `INSERT INTO audit_chain_heads (tenant_id, chain) VALUES ($1, 'main') ON CONFLICT DO NOTHING`,
      [tenantId],
      'audit_head_ensure',
    );
    const [head] = await tx.query<{ seq: number; hash: string }>(
      `SELECT seq, hash FROM audit_chain_heads WHERE tenant_id = $1 AND chain = 'main' FOR UPDATE`,
      [tenantId],
      'audit_head_lock',
    );
    return head ?? { seq: 0, hash: GENESIS_HASH };
  }

  /** One JSON document for the whole batch: PostgreSQL parses it once, no array literals. */
  private async insert(tx: Tx, entries: AuditEntry[]): Promise<void> {
    await tx.query(
      `INSERT INTO audit_entries (tenant_id, chain, seq, event_id, type, subject, actor, acting_as_tenant_id,
                                  data, occurred_at, recorded_at, prev_hash, hash)
       SELECT "tenantId", chain, seq, "eventId", type, subject, actor, "actingAsTenantId",
              data, "occurredAt", "recordedAt", "prevHash", hash
       FROM jsonb_to_recordset($1::jsonb) AS e("tenantId" uuid, chain text, seq bigint, "eventId" uuid, type text,
            subject text, actor jsonb, "actingAsTenantId" uuid, data jsonb, "occurredAt" timestamptz,
            "recordedAt" timestamptz, "prevHash" text, hash text)`,
      [JSON.stringify(entries)],
      'audit_insert',
    );
  }
}
