import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Job, Worker } from 'bullmq';
import { JobPayloads, QueueName } from './queue-names';
import { RedisConnections } from './redis-connections';
import { Metrics } from '../ops/metrics';

export interface QueueProcessor<Q extends QueueName = QueueName> {
  readonly queue: Q;
  readonly concurrency: number;
  process(job: Job<JobPayloads[Q]>, token?: string): Promise<void>;
}

/**
 * Capability modules register their processors here; only the worker app calls start(),
 * so importing a module into the API never consumes jobs. One processor per queue.
 */
@Injectable()
export class ProcessorRegistry implements OnApplicationShutdown {
  private readonly logger = new Logger('Processors');
  private readonly processors = new Map<QueueName, QueueProcessor>();
  private readonly workers: Worker[] = [];
  private readonly periodic: { name: string; ms: number; run: () => Promise<unknown> }[] = [];
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly redis: RedisConnections,
    private readonly metrics: Metrics,
  ) {}

  register(processor: QueueProcessor): void {
    if (this.processors.has(processor.queue)) {
      throw new Error(`Two processors registered for queue ${processor.queue}`);
    }
    this.processors.set(processor.queue, processor);
  }

  /** Periodic housekeeping, run by the worker on timers (not Redis, so a flush cannot drop it). */
  every(name: string, ms: number, run: () => Promise<unknown>): void {
    this.periodic.push({ name, ms, run });
  }

  start(): void {
    for (const task of this.periodic) {
      let busy = false;
      const tick = () => {
        if (busy) return;
        busy = true;
        task
          .run()
          .catch((err: Error) => this.logger.warn(`${task.name} failed: ${err.message}`))
          .finally(() => (busy = false));
      };
      this.timers.push(setInterval(tick, task.ms));
    }
    for (const processor of this.processors.values()) {
      const run = async (job: Job, token?: string) => {
        const timer = this.metrics.jobDuration.startTimer({ queue: processor.queue });
        try {
          await processor.process(job, token);
        } finally {
          timer();
        }
      };
      const worker = new Worker(processor.queue, run, {
        connection: this.redis.open(),
        prefix: this.redis.queuePrefix,
        concurrency: processor.concurrency,
        lockDuration: 30000,
        stalledInterval: 15000,
        maxStalledCount: 1000,
      });
      worker.on('failed', (job, err) =>
        this.logger.warn(`job ${processor.queue}/${job?.id} failed: ${err.message}`),
      );
      worker.on('error', (err) => this.logger.warn(`worker ${processor.queue}: ${err.message}`));
      this.workers.push(worker);
    }
    this.logger.log(`consuming ${[...this.processors.keys()].join(', ')}`);
  }

  /** SIGTERM: stop taking jobs and let the in-flight ones finish. */
  async onApplicationShutdown(): Promise<void> {
    this.timers.forEach((t) => clearInterval(t));
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
