import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Clock, Database, GroupCommit, LedgerlineConfig, Tx } from '@app/platform';
import { EventStore, SystemEvent } from '@app/events';
import { addressFor, ConsentGate } from '@app/consent';
import { ChannelSenders, SendOutcome } from './channel-senders';
import { Message } from './message';
import { messageEvent, SYSTEM_ACTOR } from './message.events';
import { MessageRef, MessageRepository } from './message.repository';
import { MessageService } from './message.service';
import { parseDurations, RetryBackoff } from './retry-backoff';

interface Outcome {
  ref: MessageRef;
  attempts: number;
  outcome: SendOutcome;
}

export type DispatchResult = 'sent' | 'suppressed' | 'retry' | 'failed' | 'nothing';

/**
 * Sends one message at most once per claim. A claim (one unit of work) checks the gate again,
 * records the check, and marks the message `sending` with a lease and the attempt number; the
 * send happens after that commit; the outcome is recorded only if the claim is still ours. A
 * worker that dies mid-send leaves the message `sending` until its lease ends; the next claim
 * sends it with the same Message-ID / Idempotency-Key, which lets the receiving side drop a
 * duplicate.
 */
@Injectable()
export class MessageDispatcher implements OnApplicationShutdown {
  private readonly retry: RetryBackoff;
  private readonly outcomes: GroupCommit<Outcome, DispatchResult>;

  constructor(
    private readonly db: Database,
    private readonly repo: MessageRepository,
    private readonly gate: ConsentGate,
    private readonly senders: ChannelSenders,
    private readonly store: EventStore,
    private readonly messages: MessageService,
    private readonly config: LedgerlineConfig,
    private readonly clock: Clock,
  ) {
    this.retry = new RetryBackoff(parseDurations(config.MESSAGE_RETRY_SCHEDULE));
    this.outcomes = new GroupCommit<Outcome, DispatchResult>(db, (tx, b) => this.record(tx, b), {
      limits: [{ weigh: () => 1, max: 200 }],
    });
  }

  /** SIGTERM: outcomes of sends that finished are recorded before the pool closes. */
  onApplicationShutdown(): Promise<void> {
    return this.outcomes.drain();
  }

  async dispatch(ref: MessageRef): Promise<DispatchResult> {
    const claim = await this.claim(ref);
    if (!claim || claim === 'suppressed') return claim ?? 'nothing';
    const { message, address } = claim;
    const outcome = await this.senders.send(message, address, this.clock.now().getTime());
    return this.outcomes.submit({ ref, attempts: message.attempts, outcome });
  }

  /**
   * Outcomes, group-committed: a sent or failed message appends an event to its tenant's
   * stream (a row lock held until commit), so one commit per message would serialise a
   * tenant's sends at one commit each.
   */
  private async record(tx: Tx, batch: Outcome[]): Promise<DispatchResult[]> {
    const results: DispatchResult[] = [];
    const events: SystemEvent[] = [];
    const now = this.clock.now();
    for (const { ref, attempts, outcome } of batch) {
      // Waits for a claim in progress: the outcome must never be dropped.
      const m = await this.repo.lockWaiting(tx, ref.tenantId, ref.id);
      // Another claim took over (our lease ran out): it owns the outcome now.
      if (!m || m.status !== 'sending' || m.attempts !== attempts) {
        results.push('nothing');
        continue;
      }
      if (outcome.ok) {
        Object.assign(m, { status: 'sent', sentAt: now.toISOString(), leaseUntil: null });
        await this.repo.save(tx, m, now);
        events.push(messageEvent(m, 'sent', SYSTEM_ACTOR, { attempts: m.attempts }));
        results.push('sent');
        continue;
      }
      const delay = outcome.permanent ? null : this.retry.nextDelay(m.attempts);
      if (delay === null) {
        Object.assign(m, { status: 'failed', reason: outcome.error, leaseUntil: null });
        await this.repo.save(tx, { ...m, lastError: outcome.error }, now);
        events.push(
          messageEvent(m, 'failed', SYSTEM_ACTOR, { attempts: m.attempts, error: outcome.error }),
        );
        results.push('failed');
        continue;
      }
      Object.assign(m, {
        status: m.sendAt ? 'scheduled' : 'queued',
        leaseUntil: null,
        nextAttemptAt: new Date(now.getTime() + delay).toISOString(),
      });
      await this.repo.save(tx, { ...m, lastError: outcome.error }, now);
      tx.afterCommit(() => this.messages.schedule(m, `r${m.attempts}`, delay));
      results.push('retry');
    }
    await this.store.record(tx, ...events);
    return results;
  }

  private async claim(
    ref: MessageRef,
  ): Promise<{ message: Message; address: string } | 'suppressed' | null> {
    return this.db.transaction(async (tx) => {
      const m = await this.repo.lock(tx, ref.tenantId, ref.id);
      if (!m || !['queued', 'scheduled', 'sending'].includes(m.status)) return null;
      const now = this.clock.now();
      if (Date.parse(m.nextAttemptAt) > now.getTime()) return null;
      if (m.status === 'sending' && m.leaseUntil && Date.parse(m.leaseUntil) > now.getTime()) {
        return null;
      }
      const decision = await this.gate.check(tx, m.tenantId, m.contactId, m.channel, m.category);
      m.checks.push({
        at: 'sending',
        allowed: decision.allowed,
        reason: decision.reason,
        consentLogId: decision.consentLogId,
        checkedAt: now.toISOString(),
      });
      const contact = decision.allowed ? decision.read?.contact : null;
      const address = contact ? addressFor(contact, m.channel) : null;
      if (!decision.allowed || !address) {
        Object.assign(m, {
          status: 'suppressed',
          reason: decision.reason ?? 'missing_address',
          leaseUntil: null,
        });
        await this.repo.save(tx, m, now);
        await this.store.record(tx, messageEvent(m, 'suppressed', SYSTEM_ACTOR, { at: 'sending' }));
        return 'suppressed';
      }
      const lease = new Date(now.getTime() + this.config.MESSAGE_SEND_LEASE_MS).toISOString();
      Object.assign(m, {
        status: 'sending',
        attempts: m.attempts + 1,
        leaseUntil: lease,
        nextAttemptAt: lease,
      });
      await this.repo.save(tx, m, now);
      return { message: m, address };
    });
  }
}
