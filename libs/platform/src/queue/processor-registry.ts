import { Injectable, Logger, OnApplicationShutdown, Type } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { Job, Worker } from 'bullmq';
import { JOB_PROCESSOR, PERIODIC_TASK, PeriodicTaskDeclaration } from './job-declarations';
import { JobPayloads, QueueName } from './queue-names';
import { RedisConnections } from './redis-connections';
import { Metrics } from '../ops/metrics';
import { LogContext, RequestContext } from '../context/request-context';

export interface QueueProcessor<Q extends QueueName = QueueName> {
  readonly queue: Q;
  readonly concurrency: number;
  process(job: Job<JobPayloads[Q]>, token?: string): Promise<void>;
}

export interface PeriodicTask {
  name: string;
  ms: number;
  run: () => Promise<unknown>;
}

/**
 * Finds the job processors (`@JobProcessor()`) and periodic tasks (`@Periodic()`) that the
 * application's modules declare, and runs them. Only the worker app calls start(), so importing
 * a module into the API never consumes jobs. Start fails on a queue with no processor or two.
 */
@Injectable()
export class ProcessorRegistry implements OnApplicationShutdown {
  private readonly logger = new Logger('Processors');
  private readonly workers: Worker[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private discovered?: { processors: Map<QueueName, QueueProcessor>; periodic: PeriodicTask[] };

  constructor(
    private readonly redis: RedisConnections,
    private readonly metrics: Metrics,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  /** The declared processors by queue and the declared periodic tasks (found once). */
  declared(): { processors: Map<QueueName, QueueProcessor>; periodic: PeriodicTask[] } {
    this.discovered ??= this.discover();
    return this.discovered;
  }

  start(): void {
    const { processors, periodic } = this.declared();
    const missing = Object.values(QueueName).filter((q) => !processors.has(q));
    if (missing.length) throw new Error(`No processor declared for queue ${missing.join(', ')}`);
    periodic.forEach((task) => this.schedule(task));
    processors.forEach((processor) => this.workers.push(this.consume(processor)));
    this.logger.log(
      `consuming ${[...processors.keys()].join(', ')}; every: ${periodic.map((t) => t.name).join(', ')}`,
    );
  }

  private discover() {
    const processors = new Map<QueueName, QueueProcessor>();
    const periodic: PeriodicTask[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.metatype) continue;
      if (this.reflector.get<boolean>(JOB_PROCESSOR, wrapper.metatype as Type)) {
        const processor = instance as unknown as QueueProcessor;
        if (processors.has(processor.queue)) {
          throw new Error(`Two processors declared for queue ${processor.queue}`);
        }
        processors.set(processor.queue, processor);
      }
      for (const method of this.scanner.getAllMethodNames(Object.getPrototypeOf(instance))) {
        const run = instance[method] as (() => Promise<unknown>) | undefined;
        const task = run && this.reflector.get<PeriodicTaskDeclaration>(PERIODIC_TASK, run);
        if (!task) continue;
        if (periodic.some((t) => t.name === task.name)) {
          throw new Error(`Two periodic tasks declared as ${task.name}`);
        }
        const ms = typeof task.every === 'number' ? task.every : task.every(instance as never);
        periodic.push({ name: task.name, ms, run: () => run.call(instance) });
      }
    }
    return { processors, periodic };
  }

  private schedule(task: PeriodicTask): void {
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

  private consume(processor: QueueProcessor): Worker {
    const run = async (job: Job, token?: string) => {
      const timer = this.metrics.jobDuration.startTimer({ queue: processor.queue });
      try {
        await RequestContext.run(jobContext(processor.queue, job), () =>
          processor.process(job, token),
        );
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
      RequestContext.run(job ? jobContext(processor.queue, job) : {}, () =>
        this.logger.warn(`job ${processor.queue}/${job?.id} failed: ${err.message}`),
      ),
    );
    worker.on('error', (err) => this.logger.warn(`worker ${processor.queue}: ${err.message}`));
    return worker;
  }

  /** SIGTERM: stop taking jobs and let the in-flight ones finish. */
  async onApplicationShutdown(): Promise<void> {
    this.timers.forEach((t) => clearInterval(t));
    await Promise.all(this.workers.map((w) => w.close()));
  }
}

/** A job's log context: its queue and id, and its tenant when the payload names one. */
export function jobContext(queue: string, job: Pick<Job, 'id' | 'data'>): LogContext {
  const data = job.data as { tenantId?: unknown } | undefined;
  const tenantId = typeof data?.tenantId === 'string' ? data.tenantId : undefined;
  return { queue, jobId: job.id, tenantId };
}
