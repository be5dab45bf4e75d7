import { Injectable } from '@nestjs/common';
import { Clock, Database, LedgerlineConfig } from '@app/platform';
import { EventStore } from '@app/events';
import { addressFor, ConsentGate, ContactRepository } from '@app/consent';
import { ChannelSenders } from './channel-senders';
import { Message } from './message';
import { messageEvent, SYSTEM_ACTOR } from './message.events';
import { MessageRef, MessageRepository } from './message.repository';
import { MessageService } from './message.service';
import { parseDurations, RetryBackoff } from './retry-backoff';

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
export class MessageDispatcher {
  private readonly retry: RetryBackoff;

  constructor(
    private readonly db: Database,
    private readonly repo: MessageRepository,
    private readonly contacts: ContactRepository,
    private readonly gate: ConsentGate,
    private readonly senders: ChannelSenders,
    private readonly store: EventStore,
    private readonly messages: MessageService,
    private readonly config: LedgerlineConfig,
    private readonly clock: Clock,
  ) {
    this.retry = new RetryBackoff(parseDurations(config.MESSAGE_RETRY_SCHEDULE));
  }

  async dispatch(ref: MessageRef): Promise<DispatchResult> {
    const claim = await this.claim(ref);
    if (!claim || claim === 'suppressed') return claim ?? 'nothing';
    const { message, address } = claim;
    const outcome = await this.senders.send(message, address, this.clock.now().getTime());
    return this.db.transaction(async (tx) => {
      const m = await this.repo.lock(tx, ref.tenantId, ref.id);
      // Another claim took over (our lease ran out): it owns the outcome now.
      if (!m || m.status !== 'sending' || m.attempts !== message.attempts) return 'nothing';
      const now = this.clock.now();
      if (outcome.ok) {
        Object.assign(m, { status: 'sent', sentAt: now.toISOString(), leaseUntil: null });
        await this.repo.save(tx, m, now);
        await this.store.record(
          tx,
          messageEvent(m, 'sent', SYSTEM_ACTOR, { attempts: m.attempts }),
        );
        return 'sent';
      }
      const delay = outcome.permanent ? null : this.retry.nextDelay(m.attempts);
      if (delay === null) {
        Object.assign(m, { status: 'failed', reason: outcome.error, leaseUntil: null });
        await this.repo.save(tx, { ...m, lastError: outcome.error }, now);
        await this.store.record(
          tx,
          messageEvent(m, 'failed', SYSTEM_ACTOR, { attempts: m.attempts, error: outcome.error }),
        );
        return 'failed';
      }
      const next = new Date(now.getTime() + delay);
      Object.assign(m, {
        status: m.sendAt ? 'scheduled' : 'queued',
        leaseUntil: null,
        nextAttemptAt: next.toISOString(),
      });
      await this.repo.save(tx, { ...m, lastError: outcome.error }, now);
      tx.afterCommit(() => this.messages.schedule(m, `r${m.attempts}`, delay));
      return 'retry';
    });
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
      m.checks.push({ at: 'sending', ...decision, checkedAt: now.toISOString() });
      const contact = decision.allowed
        ? await this.contacts.find(tx, m.tenantId, m.contactId)
        : null;
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
