import { Clock, Database, IdGenerator, Metrics } from '@app/platform';
import { EventIngestor, IngestRequest } from './event-ingestor';
import { EventStore } from './event-store';
import { IdempotencyKeyRepository } from './idempotency-key.repository';
import { NewEvent } from './event-types';

/**
 * A database whose units of work wait for release() and record each appended document, and
 * whether it ran in a transaction.
 */
function heldDatabase() {
  const units: string[] = [];
  const appended: { id: string }[][] = [];
  let open: (() => void)[] = [];
  const tx = {
    query: (_text: string, values: string[]) => {
      appended.push(JSON.parse(values[0]) as { id: string }[]);
      return Promise.resolve([]);
    },
    afterCommit: () => undefined,
  };
  const unit = (kind: string) => async (work: (t: typeof tx) => Promise<unknown>) => {
    units.push(kind);
    await new Promise<void>((r) => open.push(r));
    return work(tx);
  };
  const db = {
    transaction: unit('transaction'),
    oneStatement: unit('one statement'),
    query: () => Promise.resolve([]),
  };
  const release = async () => {
    const waiting = open;
    open = [];
    waiting.forEach((r) => r());
    await new Promise((r) => setImmediate(r));
  };
  return { db: db as unknown as Database, appended, units, release, held: () => open.length };
}

let seq = 0;
const newEvent = (data: Record<string, unknown> = {}): NewEvent => ({
  tenantId: '01a2178a-30df-74cf-bc4e-6df51dae363c',
  id: `e${seq++}`,
  type: 'invoice.paid',
  subject: null,
  actor: { type: 'service', id: 'billing' },
  actingAsTenantId: null,
  occurredAt: new Date(),
  receivedAt: new Date(),
  data,
});
const request = (events: NewEvent[]): IngestRequest => ({
  tenantId: events[0].tenantId,
  events,
  answer: { status: 202, body: { n: events.length } },
});

describe('EventIngestor', () => {
  let held: ReturnType<typeof heldDatabase>;
  let ingestor: EventIngestor;

  beforeEach(() => {
    held = heldDatabase();
    const store = new EventStore(held.db, new IdGenerator(), new Clock());
    ingestor = new EventIngestor(
      held.db,
      store,
      new Metrics(),
      new IdempotencyKeyRepository(held.db),
    );
  });

  it('runs two commits at once and groups what arrives meanwhile into the next one', async () => {
    const answers = Array.from({ length: 10 }, () => ingestor.ingest(request([newEvent()])));
    expect(held.held()).toBe(2);
    await held.release();
    await held.release();
    expect(held.appended.map((doc) => doc.length)).toEqual([1, 1, 8]);
    expect((await Promise.all(answers)).every((a) => a.status === 202)).toBe(true);
  });

  it('appends without a transaction around the INSERT unless the batch holds idempotency keys', async () => {
    const plain = ingestor.ingest(request([newEvent()]));
    const keyed = ingestor.ingest({
      ...request([newEvent()]),
      idempotency: { key: 'k1', requestHash: 'h' },
    });
    await held.release();
    await Promise.allSettled([plain, keyed]);
    expect(held.units).toEqual(['one statement', 'transaction']);
  });

  it('keeps a commit within 2,000 events and 16 Mi characters of JSON', async () => {
    const big = 'x'.repeat(6 * 1024 * 1024);
    const first = [ingestor.ingest(request([newEvent()])), ingestor.ingest(request([newEvent()]))];
    const rest = [
      ...Array.from({ length: 3 }, () => ingestor.ingest(request([newEvent({ big })]))),
      ...Array.from({ length: 5 }, () =>
        ingestor.ingest(request(Array.from({ length: 500 }, () => newEvent()))),
      ),
    ];
    for (let i = 0; i < 6; i++) await held.release();
    await Promise.all([...first, ...rest]);
    // Two 6 Mi events fit together, a third does not; then 500-event requests up to 2,000.
    expect(held.appended.map((doc) => doc.length)).toEqual([1, 1, 2, 1 + 3 * 500, 2 * 500]);
  });

  it('finishes queued requests before it lets the shutdown go on', async () => {
    const answers = Array.from({ length: 5 }, () => ingestor.ingest(request([newEvent()])));
    let drained = false;
    const shutdown = ingestor.onApplicationShutdown().then(() => (drained = true));
    await held.release();
    expect(drained).toBe(false);
    await held.release();
    await shutdown;
    expect(held.appended.flat()).toHaveLength(5);
    await Promise.all(answers);
  });

  it('runs the transaction again when a key is purged between its claim and its read', async () => {
    const names: string[] = [];
    let claims = 0;
    const tx = {
      query: (_text: string, values: string[][], name: string) => {
        names.push(name);
        if (name === 'idempotency_claim' && ++claims === 1) return Promise.resolve([]);
        if (name === 'idempotency_claim') {
          return Promise.resolve([{ tenant_id: values[0][0], key: values[1][0] }]);
        }
        return Promise.resolve([]); // the lookup finds nothing: purged meanwhile
      },
      afterCommit: () => undefined,
    } as unknown as Record<string, unknown>;
    const db = {
      transaction: (work: (t: typeof tx) => Promise<unknown>) => work(tx),
      query: () => Promise.resolve([]),
    } as unknown as Database;
    const keyed = new EventIngestor(
      db,
      new EventStore(db, new IdGenerator(), new Clock()),
      new Metrics(),
      new IdempotencyKeyRepository(db),
    );
    const answer = await keyed.ingest({
      ...request([newEvent()]),
      idempotency: { key: 'k1', requestHash: 'h' },
    });
    expect(answer.status).toBe(202);
    expect(names).toEqual([
      'idempotency_claim',
      'idempotency_lookup',
      'idempotency_claim',
      'event_store_append',
    ]);
  });
});
