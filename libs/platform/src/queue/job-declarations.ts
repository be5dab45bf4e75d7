import { SetMetadata } from '@nestjs/common';

export const JOB_PROCESSOR = Symbol('ledgerline.jobProcessor');
export const PERIODIC_TASK = Symbol('ledgerline.periodicTask');

/**
 * Marks a provider as the processor of its `queue` (it implements QueueProcessor). The worker
 * finds every one at start; a queue with none, or with two, stops the worker.
 */
export const JobProcessor = (): ClassDecorator => SetMetadata(JOB_PROCESSOR, true);

export interface PeriodicTaskDeclaration {
  name: string;
  /** Milliseconds between runs, or read from the instance (e.g. from its config). */
  every: number | ((instance: never) => number);
}

/**
 * Declares periodic work on a provider method. The worker runs it on a timer (not a Redis
 * schedule, so a flush cannot drop it); a run never overlaps the previous one.
 */
export const Periodic = (name: string, every: PeriodicTaskDeclaration['every']): MethodDecorator =>
  SetMetadata(PERIODIC_TASK, { name, every } satisfies PeriodicTaskDeclaration);
