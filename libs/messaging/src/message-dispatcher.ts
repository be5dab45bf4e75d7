import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Clock, Database, GroupCommit, LedgerlineConfig, Tx } from '@app/platform';
import { EventStore, SystemEvent } from '@app/events';
import { addressFor, ConsentGate } from '@app/consent';
import { ChannelSenders, SendOutcome } from './channel-senders';
import { Message } from './message';
import { messageEvent, SYSTEM_ACTOR } from './message.events';
import { MessageRef, MessageRepository, SavedState } from './message.repository';
import { MessageService } from './message.service';
import { parseDurations, RetryBackoff } from './retry-backoff';

interface Outcome {
  ref: MessageRef;
  attempts: number;
  outcome: SendOutcome;
}

interface Claimed {
  message: Message;
  address: string;
}

type ClaimResult = Claimed | 'suppressed' | null;

export type DispatchResult = 'sent' | 'suppressed' | 'retry' | 'failed' | 'nothing';

/**
 * Sends one message at most once per claim. A claim (one unit of work) checks the gate again,
 * records the check, and marks the message `sending` with a lease and the attempt number; the
 * send happens after that commit; the outcome is recorded only if the claim is still ours. A
 * worker that dies mid-send leaves the message `sending` until its lease ends; the next claim
 * sends it with the same Message-ID / Idempotency-Key, which lets the receiving side drop a
 * duplicate. Claims and outcomes are group-committed: the jobs running at once share one
 * transaction (one lock statement, one gate read, one update) instead of one each.
 */
@Injectable()
export class MessageDispatcher implements OnApplicationShutdown {
  private readonly retry: RetryBackoff;
  private readonly claims: GroupCommit<MessageRef, ClaimResult>;
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
    const limits = [{ weigh: () => 1, max: 200 }];
    this.claims = new GroupCommit<MessageRef, ClaimResult>(db, (tx, b) => this.claim(tx, b), {
      limits,
    });
    // One outcome batch at a time: every batch appends to the tenant's stream, whose row lock the
    // API's acceptances also wait for; fewer, larger batches hold it less often.
    this.outcomes = new GroupCommit<Outcome, DispatchResult>(db, (tx, b) => this.record(tx, b), {
      limits,
      maxInFlight: 1,
    });
  }

  /** SIGTERM: outcomes of sends that finished are recorded before the pool closes. */
  async onApplicationShutdown(): Promise<void> {
    await this.claims.drain();
    await this.outcomes.drain();
  }

  /** Claims the messages together, sends each, and records each outcome as it comes. */
  dispatchMany(refs: MessageRef[]): Promise<DispatchResult[]> {
    return Promise.all(
      this.claims.submitMany(refs).map(async (claimed, i) => {
        const claim = await claimed;
        if (!claim || claim === 'suppressed') return claim ?? 'nothing';
        const { message, address } = claim;
        const outcome = await this.senders.send(message, address, this.clock.now().getTime());
        return this.outcomes.submit({ ref: refs[i], attempts: message.attempts, outcome });
      }),
    );
  }

  /**
   * Outcomes: a sent or failed message appends an event to its tenant's stream (a row lock held
   * until commit), so one commit per message would serialise a tenant's sends at one commit each.
   */
  private async record(tx: Tx, batch: Outcome[]): Promise<DispatchResult[]> {
    // Waits for a claim in progress: the outcome must never be dropped.
    const locked = byKey(
      await this.repo.lockMany(
        tx,
        batch.map((o) => o.ref),
        false,
      ),
    );
    const results: DispatchResult[] = [];
    const saved: SavedState[] = [];
    const events: SystemEvent[] = [];
    const now = this.clock.now();
    for (const { ref, attempts, outcome } of batch) {
      const m = locked.get(key(ref));
      // Another claim took over (our lease ran out): it owns the outcome now.
      if (!m || m.status !== 'sending' || m.attempts !== attempts) {
        results.push('nothing');
        continue;
      }
      if (outcome.ok) {
        Object.assign(m, { status: 'sent', sentAt: now.toISOString(), leaseUntil: null });
        saved.push(m);
        events.push(messageEvent(m, 'sent', SYSTEM_ACTOR, { attempts: m.attempts }));
        results.push('sent');
        continue;
      }
      const delay = outcome.permanent ? null : this.retry.nextDelay(m.attempts);
      if (delay === null) {
        Object.assign(m, { status: 'failed', reason: outcome.error, leaseUntil: null });
        saved.push({ ...m, lastError: outcome.error });
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
      saved.push({ ...m, lastError: outcome.error });
      tx.afterCommit(() => this.messages.schedule([m], `r${m.attempts}`, delay));
      results.push('retry');
    }
    await this.repo.saveMany(tx, saved, now);
    await this.store.record(tx, ...events);
    return results;
  }

  /** Claims: each message still owed (and not held by another claim) is checked and leased. */
  private async claim(tx: Tx, refs: MessageRef[]): Promise<ClaimResult[]> {
    const now = this.clock.now();
    const owed = (await this.repo.lockMany(tx, refs, true)).filter((m) => isOwed(m, now));
    // The gate reads through the pool, not the claim's transaction: under READ COMMITTED it sees
    // the same data, and a failed read cannot abort the claim (no savepoint round trips).
    const decisions = await this.gate.checkMany(this.db, owed);
    const claimed = new Map<string, ClaimResult>();
    const suppressed: SystemEvent[] = [];
    const lease = new Date(now.getTime() + this.config.MESSAGE_SEND_LEASE_MS).toISOString();
    for (const [i, m] of owed.entries()) {
      const decision = decisions[i];
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
        suppressed.push(messageEvent(m, 'suppressed', SYSTEM_ACTOR, { at: 'sending' }));
        claimed.set(key(m), 'suppressed');
        continue;
      }
      Object.assign(m, {
        status: 'sending',
        attempts: m.attempts + 1,
        leaseUntil: lease,
        nextAttemptAt: lease,
      });
      claimed.set(key(m), { message: m, address });
    }
    await this.repo.saveMany(tx, owed, now);
    await this.store.record(tx, ...suppressed);
    // Two jobs for one message in one batch (the sweeper's and its own): one claim only.
    return refs.map((r) => {
      const result = claimed.get(key(r)) ?? null;
      claimed.delete(key(r));
      return result;
    });
  }
}

/** Queued or scheduled and due, or `sending` with its lease run out (its worker died). */
function isOwed(m: Message, now: Date): boolean {
  if (!['queued', 'scheduled', 'sending'].includes(m.status)) return false;
  if (Date.parse(m.nextAttemptAt) > now.getTime()) return false;
  return !(m.status === 'sending' && m.leaseUntil && Date.parse(m.leaseUntil) > now.getTime());
}

const key = (r: MessageRef) => `${r.tenantId}/${r.id}`;
const byKey = (ms: Message[]) => new Map(ms.map((m) => [key(m), m]));
