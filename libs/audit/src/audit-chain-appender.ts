import { Injectable, OnModuleInit } from '@nestjs/common';
import {
  Clock,
  Database,
  Metrics,
  ProcessorRegistry,
  QueueName,
  QueueRegistry,
  Tx,
} from '@app/platform';
import { EventStore, StoredEvent, StreamConsumer, StreamConsumerRegistry } from '@app/events';
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
export class AuditChainAppender extends StreamConsumer implements OnModuleInit {
  readonly queue = QueueName.Audit as const;
  protected override readonly batchSize = 1000;
  private readonly redactor = new PiiRedactor();

  constructor(
    db: Database,
    store: EventStore,
    queues: QueueRegistry,
    private readonly processors: ProcessorRegistry,
    private readonly consumers: StreamConsumerRegistry,
    private readonly checkpoints: CheckpointService,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
  ) {
    super(db, store, queues);
  }

  onModuleInit(): void {
    this.processors.register(this);
    this.consumers.add(this.queue);
  }

  protected async consume(tx: Tx, tenantId: string, events: StoredEvent[]): Promise<void> {
    const head = await this.lockHead(tx, tenantId);
    const candidates = events.filter((e) => !UNCHAINED_TYPES.has(e.type));
    if (!candidates.length) return;
    // A replay of events already in the chain is a no-op (unique (tenant, chain, event)).
    const present = await tx.query<{ event_id: string }>(
      `SELECT event_id FROM audit_entries WHERE tenant_id = $1 AND chain = 'main' AND event_id = ANY($2::uuid[])`,
      [tenantId, candidates.map((e) => e.id)],
      'audit_present',
    );
    const skip = new Set(present.map((r) => r.event_id));
    const recordedAt = this.clock.now().toISOString();
    let { seq, hash } = head;
    const entries: AuditEntry[] = [];
    for (const event of candidates) {
      if (skip.has(event.id)) continue;
      const unhashed = {
        seq: ++seq,
        chain: 'main' as const,
        tenantId,
        eventId: event.id,
        type: event.type,
        subject: event.subject === null ? null : this.redactor.redactString(event.subject),
        actor: event.actor,
        actingAsTenantId: event.actingAsTenantId,
        data: this.redactor.redact(event.data),
        occurredAt: event.occurredAt.toISOString(),
        recordedAt,
      };
      const next = hashEntry(hash, unhashed);
      entries.push({ ...unhashed, prevHash: hash, hash: next });
      hash = next;
    }
    if (!entries.length) return;
    await this.insert(tx, entries);
    await tx.query(
      `UPDATE audit_chain_heads SET seq = $3, hash = $4, updated_at = now() WHERE tenant_id = $1 AND chain = $2`,
      [tenantId, 'main', seq, hash],
      'audit_head_move',
    );
    await this.checkpoints.maybeCheckpoint(tx, tenantId, 'main', entries);
    this.metrics.auditEntries.inc(entries.length);
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

  private async insert(tx: Tx, entries: AuditEntry[]): Promise<void> {
    await tx.query(
      `INSERT INTO audit_entries (tenant_id, chain, seq, event_id, type, subject, actor, acting_as_tenant_id,
                                  data, occurred_at, recorded_at, prev_hash, hash)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::uuid[], $5::text[], $6::text[], $7::jsonb[],
                            $8::uuid[], $9::jsonb[], $10::timestamptz[], $11::timestamptz[], $12::text[], $13::text[])`,
      [
        entries.map((e) => e.tenantId),
        entries.map((e) => e.chain),
        entries.map((e) => e.seq),
        entries.map((e) => e.eventId),
        entries.map((e) => e.type),
        entries.map((e) => e.subject),
        entries.map((e) => JSON.stringify(e.actor)),
        entries.map((e) => e.actingAsTenantId),
        entries.map((e) => JSON.stringify(e.data)),
        entries.map((e) => e.occurredAt),
        entries.map((e) => e.recordedAt),
        entries.map((e) => e.prevHash),
        entries.map((e) => e.hash),
      ],
      'audit_insert',
    );
  }
}
