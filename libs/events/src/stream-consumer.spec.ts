import { DelayedError, Job } from 'bullmq';
import { QueueName, StreamJob, Tx } from '@app/platform';
import { StreamConsumer, StreamConsumerDeps } from './stream-consumer';
import { StoredEvent } from './event-types';

const TENANT = '00000000-0000-4000-8000-000000000001';

/** A stream of six events, read two at a time; the cursor is one lock, held per transaction. */
function stream() {
  const events = Array.from({ length: 6 }, (_, i) => ({ position: i + 1 }) as StoredEvent);
  const reads: number[] = [];
  let position = 0;
  let holder: object | null = null;
  const deps = {
    db: {
      transaction: async (work: (tx: Tx) => Promise<unknown>) => {
        const tx = {} as Tx;
        try {
          return await work(tx);
        } finally {
          if (holder === tx) holder = null;
        }
      },
    },
    store: {
      readAfter: (_sql: unknown, _tenant: string, after: number, limit: number) => {
        reads.push(after);
        return Promise.resolve(events.filter((e) => e.position > after).slice(0, limit));
      },
    },
    cursors: {
      lock: (tx: Tx) => {
        if (holder) return Promise.resolve(null);
        holder = tx;
        return Promise.resolve({ position, head: events.length });
      },
      moveTo: (_tx: Tx, _tenant: string, _consumer: string, to: number) => {
        position = to;
        return Promise.resolve();
      },
    },
    queues: { add: () => Promise.resolve() },
  } as unknown as StreamConsumerDeps;
  return { deps, reads, position: () => position };
}

class GatedConsumer extends StreamConsumer {
  readonly queue = QueueName.Audit as const;
  protected override readonly batchSize = 2;
  /** The first batch waits here, so another job can run meanwhile. */
  gate?: Promise<void>;

  protected async consume(): Promise<void> {
    const gate = this.gate;
    this.gate = undefined;
    await gate;
  }
}

const job = () =>
  ({ data: { tenantId: TENANT, upTo: 6 }, moveToDelayed: jest.fn() }) as unknown as Job<StreamJob>;

describe('StreamConsumer read-ahead', () => {
  it('reads each batch once, though a second job for the tenant finds it locked meanwhile', async () => {
    const s = stream();
    const consumer = new GatedConsumer(s.deps);
    let open!: () => void;
    consumer.gate = new Promise<void>((r) => (open = r));
    const running = consumer.process(job());
    await new Promise((r) => setImmediate(r));
    // The relay's job for the same tenant: the cursor is locked, so it steps back.
    const second = job();
    await expect(consumer.process(second)).rejects.toBeInstanceOf(DelayedError);
    expect(second.moveToDelayed).toHaveBeenCalled();
    open();
    await running;
    expect(s.position()).toBe(6);
    // The first batch, each next one read ahead once, and the empty tail read again under lock.
    expect(s.reads).toEqual([0, 2, 4, 6, 6]);
  });
});
