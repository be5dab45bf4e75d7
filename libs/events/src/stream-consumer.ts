import { Injectable, Logger } from '@nestjs/common';
import { DelayedError, Job } from 'bullmq';
import {
  Database,
  JobIds,
  JobProcessor,
  QueueProcessor,
  QueueRegistry,
  StreamJob,
  StreamQueue,
  Tx,
} from '@app/platform';
import { EventStore } from './event-store';
import { StoredEvent } from './event-types';
import { StreamCursorRepository } from './stream-cursor.repository';

/** How long one job may hold a tenant before it hands the rest to a follow-up job. */
const TIME_BUDGET_MS = 5000;

/** What every stream consumer stands on, injected as one. */
@Injectable()
export class StreamConsumerDeps {
  constructor(
    readonly db: Database,
    readonly store: EventStore,
    readonly queues: QueueRegistry,
    readonly cursors: StreamCursorRepository,
  ) {}
}

/**
 * A background consumer of each tenant's event stream (audit, fan-out). Its progress is a cursor
 * row in PostgreSQL, moved in the same transaction as its effects, so a job may run twice, die
 * half-way or be lost with Redis: the next run starts where the last commit left off.
 * Only one job works on a tenant at a time (the cursor row is locked with SKIP LOCKED); a job that
 * finds it locked steps back and retries shortly.
 * Declared as its queue's processor, so the worker finds it and the relay feeds its queue.
 */
@JobProcessor()
export abstract class StreamConsumer<Outcome = void> implements QueueProcessor<StreamQueue> {
  abstract readonly queue: StreamQueue;
  readonly concurrency: number = 4;
  protected readonly batchSize: number = 500;
  protected readonly logger = new Logger(this.constructor.name);

  protected readonly db: Database;
  protected readonly store: EventStore;
  /**
   * The next batch of a tenant whose last batch was full, read on another connection while that
   * batch's transaction still runs (PostgreSQL reads it on one core while the other inserts).
   * Events are immutable and committed in position order, so a read after position p is a valid
   * prefix of the stream for as long as the cursor stands at p.
   */
  private readonly readAhead = new Map<
    string,
    { after: number; events: Promise<StoredEvent[] | null>; owner: Job<StreamJob> }
  >();
  protected readonly queues: QueueRegistry;
  private readonly cursors: StreamCursorRepository;

  constructor(deps: StreamConsumerDeps) {
    this.db = deps.db;
    this.store = deps.store;
    this.queues = deps.queues;
    this.cursors = deps.cursors;
  }

  /** Applies a batch of the tenant's next events, in position order, inside the transaction. */
  protected abstract consume(tx: Tx, tenantId: string, events: StoredEvent[]): Promise<Outcome>;

  /** False when the tenant needs nothing from this consumer now: the cursor jumps to the head. */
  protected hasWork(_tx: Tx, _tenantId: string): Promise<boolean> {
    return Promise.resolve(true);
  }

  /** Runs after the batch's transaction committed (e.g. enqueue follow-up jobs). */
  protected afterCommit(_tenantId: string, _outcome: Outcome): Promise<void> {
    return Promise.resolve();
  }

  async process(job: Job<StreamJob>, token?: string): Promise<void> {
    try {
      await this.run(job, token);
    } finally {
      // Only the job that read ahead drops it: another job for the tenant (the relay's, beside
      // a continuation) finds the cursor locked and must leave the running job's batch alone.
      const { tenantId } = job.data;
      if (this.readAhead.get(tenantId)?.owner === job) this.readAhead.delete(tenantId);
    }
  }

  private async run(job: Job<StreamJob>, token?: string): Promise<void> {
    const started = Date.now();
    const { tenantId } = job.data;
    for (;;) {
      const step = await this.step(job);
      if (step === 'locked') {
        await job.moveToDelayed(Date.now() + 100, token);
        throw new DelayedError();
      }
      if (step === 'idle') return;
      if (Date.now() - started > TIME_BUDGET_MS) {
        await this.queues.add(
          this.queue,
          JobIds.streamContinuation(this.queue, tenantId, Date.now()),
          {
            tenantId,
            upTo: job.data.upTo,
          },
        );
        return;
      }
    }
  }

  private async step(job: Job<StreamJob>): Promise<'locked' | 'idle' | 'more'> {
    const { tenantId } = job.data;
    let events: StoredEvent[] = [];
    let result: Outcome | undefined;
    const ahead = await this.peekReadAhead(tenantId);
    const outcome = await this.db.transaction(async (tx) => {
      // The head is read with the cursor, before hasWork: skipping only to a head read first,
      // a consumer cannot skip events committed after it looked for work (e.g. a webhook
      // endpoint created meanwhile, with its events right behind it).
      const cursor = await this.cursors.lock(tx, tenantId, this.queue);
      if (!cursor) return 'locked' as const;
      // This job holds the tenant now: what was read ahead is used below or is stale.
      this.readAhead.delete(tenantId);
      if (!(await this.hasWork(tx, tenantId))) {
        await this.cursors.skipTo(tx, tenantId, this.queue, cursor.head ?? 0);
        return 'idle' as const;
      }
      events =
        ahead?.after === cursor.position
          ? ahead.events
          : await this.store.readAfter(tx, tenantId, cursor.position, this.batchSize);
      if (!events.length) return 'idle' as const;
      if (events.length === this.batchSize) this.readNext(job, events[events.length - 1].position);
      result = await this.consume(tx, tenantId, events);
      await this.cursors.moveTo(tx, tenantId, this.queue, events[events.length - 1].position);
      return events.length < this.batchSize ? ('idle' as const) : ('more' as const);
    });
    if (events.length) {
      await this.afterCommit(tenantId, result as Outcome);
    }
    return outcome;
  }

  /**
   * The batch read ahead for this tenant, awaited before the transaction takes a connection (a
   * transaction waiting on a read that waits for a pooled connection could starve the pool).
   * Left in place: only the job that then holds the cursor lock takes it.
   */
  private async peekReadAhead(
    tenantId: string,
  ): Promise<{ after: number; events: StoredEvent[] } | null> {
    const ahead = this.readAhead.get(tenantId);
    const events = ahead ? await ahead.events : null;
    return ahead && events?.length ? { after: ahead.after, events } : null;
  }

  private readNext(job: Job<StreamJob>, after: number): void {
    const { tenantId } = job.data;
    const events = this.store.readAfter(this.db, tenantId, after, this.batchSize).catch(() => null);
    this.readAhead.set(tenantId, { after, events, owner: job });
  }
}
