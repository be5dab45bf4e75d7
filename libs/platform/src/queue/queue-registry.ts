import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { JobsOptions, Queue } from 'bullmq';
import { JobPayloads, QueueName } from './queue-names';
import { RedisConnections } from './redis-connections';
import { Gauge } from 'prom-client';
import { Metrics } from '../ops/metrics';

// Bounded so Redis does not grow forever; completed ids are kept briefly so re-adds dedupe.
export const JOB_RETENTION: Pick<JobsOptions, 'removeOnComplete' | 'removeOnFail'> = {
  removeOnComplete: { age: 3600, count: 10000 },
  removeOnFail: { age: 7 * 86400, count: 10000 },
};

/** Typed producers for every queue; job ids are deterministic so adds are idempotent. */
@Injectable()
export class QueueRegistry implements OnApplicationShutdown {
  private readonly queues = new Map<QueueName, Queue>();

  constructor(
    private readonly redis: RedisConnections,
    metrics: Metrics,
  ) {
    const depth = async (name: QueueName) => {
      const counts = await this.get(name).getJobCounts('wait', 'delayed', 'prioritized');
      return (counts.wait ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0);
    };
    // Read at scrape time, so the figure is Redis's, whichever process is scraped.
    new Gauge({
      name: 'ledgerline_queue_depth',
      help: 'Jobs waiting or delayed, by queue',
      labelNames: ['queue'] as const,
      registers: [metrics.registry],
      collect: async function (this: Gauge<'queue'>) {
        for (const name of Object.values(QueueName)) this.set({ queue: name }, await depth(name));
      },
    });
  }

  get<Q extends QueueName>(name: Q): Queue<JobPayloads[Q]> {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, {
        connection: this.redis.shared,
        prefix: this.redis.queuePrefix,
        defaultJobOptions: {
          ...JOB_RETENTION,
          // Jobs are retried until they succeed, at most a few seconds apart: a stream job's id is
          // deterministic, so a job that gave up (or waited hours) would block its tenant.
          attempts: Number.MAX_SAFE_INTEGER,
          backoff: { type: 'fixed', delay: 2000 },
        },
      });
      this.queues.set(name, queue);
    }
    return queue as unknown as Queue<JobPayloads[Q]>;
  }

  async add<Q extends QueueName>(
    name: Q,
    jobId: string,
    data: JobPayloads[Q],
    opts: JobsOptions = {},
  ): Promise<void> {
    await this.get(name).add(name as never, data as never, { ...opts, jobId });
  }

  async addBulk<Q extends QueueName>(
    name: Q,
    jobs: { jobId: string; data: JobPayloads[Q]; opts?: JobsOptions }[],
  ): Promise<void> {
    if (!jobs.length) return;
    await this.get(name).addBulk(
      jobs.map((j) => ({ name, data: j.data, opts: { ...j.opts, jobId: j.jobId } })) as never,
    );
  }

  all(): Queue[] {
    return Object.values(QueueName).map((n) => this.get(n) as unknown as Queue);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
  }
}
