import { Injectable } from '@nestjs/common';
import { Job } from 'bullmq';
import {
  Clock,
  JobProcessor,
  MessageJob,
  Periodic,
  QueueName,
  QueueProcessor,
} from '@app/platform';
import { MessageDispatcher } from './message-dispatcher';
import { MessageRepository } from './message.repository';
import { MessageService } from './message.service';

const SWEEP_BATCH = 500;
const SWEEP_GRACE_MS = 10000;
/** A message the sweeper re-added is not re-added again for this long. */
const RESWEEP_MS = 300000;

/** Sends a tenant's messages (the dispatcher's claim makes a duplicate job a no-op). */
@Injectable()
@JobProcessor()
export class MessageSendProcessor implements QueueProcessor<QueueName.MessageSend> {
  readonly queue = QueueName.MessageSend as const;
  /** Jobs at once; each holds up to a whole acceptance batch (MessageService's limit). */
  readonly concurrency = 8;
  private slot = 0;

  constructor(
    private readonly dispatcher: MessageDispatcher,
    private readonly repo: MessageRepository,
    private readonly messages: MessageService,
    private readonly clock: Clock,
  ) {}

  async process(job: Job<MessageJob>): Promise<void> {
    const { tenantId, messageIds } = job.data;
    await this.dispatcher.dispatchMany(messageIds.map((id) => ({ tenantId, id })));
  }

  /**
   * PostgreSQL says what is owed: due queued or scheduled messages whose job was lost (Redis
   * flushed, a crash before the add) and `sending` ones whose worker died (lease run out).
   */
  @Periodic('message-sweep', 1000)
  async sweep(): Promise<number> {
    // A grace period leaves queued messages to their own jobs: the sweeper is for lost ones
    // (Redis flushed); a dead worker's message is taken as soon as its lease has run out.
    const now = this.clock.now();
    const due = await this.repo.sweepDue(
      new Date(now.getTime() - SWEEP_GRACE_MS),
      now,
      RESWEEP_MS,
      SWEEP_BATCH,
    );
    this.messages.schedule(due, `s${this.slot++ % 1000}`);
    return due.length;
  }
}
