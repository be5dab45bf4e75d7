import { Injectable } from '@nestjs/common';
import { Clock, Metrics, QueueName, Tx } from '@app/platform';
import { StoredEvent, StreamConsumer, StreamConsumerDeps } from '@app/events';
import { PiiRedactor } from '@app/security';
import { AuditEntry, GENESIS_HASH, hashEntry } from './audit-entry';
import { AuditChainDefinition, AuditChainRegistry } from './audit-chains';
import { AuditEntryRepository, ChainHead } from './audit-entry.repository';
import { CheckpointService } from './checkpoint.service';

/**
 * Appends each tenant's new events to its chains (each registered chain takes the events it
 * selects): lock the chain's head, redact, canonicalise, hash, insert the batch in one statement,
 * move the head, all in the consumer's transaction.
 */
@Injectable()
export class AuditChainAppender extends StreamConsumer {
  readonly queue = QueueName.Audit as const;
  protected override readonly batchSize = 2000;
  private readonly redactor = new PiiRedactor();

  constructor(
    deps: StreamConsumerDeps,
    private readonly chains: AuditChainRegistry,
    private readonly entries: AuditEntryRepository,
    private readonly checkpoints: CheckpointService,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
  ) {
    super(deps);
  }

  protected async consume(tx: Tx, tenantId: string, events: StoredEvent[]): Promise<void> {
    for (const definition of this.chains.all()) {
      const selected = events.filter((e) => definition.selects(e));
      if (selected.length) await this.append(tx, tenantId, definition, selected);
    }
  }

  private async append(
    tx: Tx,
    tenantId: string,
    definition: AuditChainDefinition,
    events: StoredEvent[],
  ): Promise<void> {
    const { chain } = definition;
    const head = await this.entries.lockHead(tx, tenantId, chain);
    // The cursor and the head move in one transaction, so a replay is not expected; the unique
    // (tenant, chain, event) index is the safety net, and only then are present events skipped.
    await tx.query('SAVEPOINT audit_append');
    let appended = this.link(tenantId, definition, head, events, new Set());
    try {
      await this.entries.insert(tx, appended.entries);
    } catch (err) {
      if ((err as { code?: string }).code !== '23505') throw err;
      await tx.query('ROLLBACK TO SAVEPOINT audit_append');
      const present = await this.entries.presentEvents(
        tx,
        tenantId,
        chain,
        events.map((e) => e.id),
      );
      appended = this.link(tenantId, definition, head, events, present);
      if (!appended.entries.length) return;
      await this.entries.insert(tx, appended.entries);
    }
    const { seq, hash, entries } = appended;
    await this.entries.moveHead(tx, tenantId, chain, { seq, hash });
    await this.checkpoints.maybeCheckpoint(tx, tenantId, chain, entries);
    this.metrics.auditEntries.inc(entries.length);
  }

  /** Redacts, canonicalises and hashes the events onto the chain after `head`. */
  private link(
    tenantId: string,
    definition: AuditChainDefinition,
    head: ChainHead | null,
    events: StoredEvent[],
    skip: Set<string>,
  ) {
    const recordedAt = this.clock.now().toISOString();
    let { seq, hash } = head ?? { seq: 0, hash: GENESIS_HASH };
    const entries: AuditEntry[] = [];
    for (const event of events) {
      if (skip.has(event.id)) continue;
      const content = definition.toEntry(event);
      const unhashed = {
        seq: ++seq,
        chain: definition.chain,
        tenantId,
        eventId: content.eventId,
        type: content.type,
        subject: content.subject === null ? null : this.redactor.redactString(content.subject),
        actor: { type: content.actor.type, id: this.redactor.redactString(content.actor.id) },
        actingAsTenantId: content.actingAsTenantId,
        data: this.redactor.redact(content.data),
        occurredAt: content.occurredAt.toISOString(),
        recordedAt,
      };
      const next = hashEntry(hash, unhashed);
      entries.push({ ...unhashed, prevHash: hash, hash: next });
      hash = next;
    }
    return { seq, hash, entries };
  }
}
