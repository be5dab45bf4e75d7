import { StoredEvent } from '@app/events';
import { DeliveryHandoff, FreshDelivery, HANDOFF_HELD } from './delivery-handoff';
import { FAST_LANE_SLOTS } from './endpoint-lanes';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import { WebhookEndpoint } from './webhook-endpoint';

function fresh(n: number, from = 0): FreshDelivery[] {
  return Array.from({ length: n }, (_, i) => ({
    due: {
      tenantId: 't',
      id: `d${from + i}`,
      endpointId: 'e',
      eventId: `ev${from + i}`,
      attemptCount: 0,
      status: 'pending' as const,
    },
    event: {} as StoredEvent,
    endpoint: {} as WebhookEndpoint,
    claimedAt: Date.now(),
  }));
}

/** A handoff whose attempts wait until released, recording what was attempted and given back. */
function setup() {
  const givenBack: string[] = [];
  const repo = {
    unclaim: (_t: string, id: string) => {
      givenBack.push(id);
      return Promise.resolve();
    },
  } as unknown as WebhookDeliveryRepository;
  const handoff = new DeliveryHandoff(repo);
  const started: string[] = [];
  const finish: (() => void)[] = [];
  handoff.serve((f) => {
    started.push(f.due.id);
    return new Promise<void>((resolve) => finish.push(resolve));
  });
  return { handoff, started, finish, givenBack };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('DeliveryHandoff', () => {
  it('runs at most FAST_LANE_SLOTS attempts at once, in the order offered', async () => {
    const { handoff, started, finish } = setup();
    await handoff.offer(fresh(FAST_LANE_SLOTS + 10));
    expect(started).toHaveLength(FAST_LANE_SLOTS);
    expect(started.slice(0, 3)).toEqual(['d0', 'd1', 'd2']);
    finish.splice(0, 10).forEach((f) => f());
    await tick();
    expect(started).toHaveLength(FAST_LANE_SLOTS + 10);
    expect(started.at(-1)).toBe(`d${FAST_LANE_SLOTS + 9}`);
  });

  it('makes fan-out wait while HANDOFF_HELD are held, and lets it go on as attempts finish', async () => {
    const { handoff, finish } = setup();
    await handoff.offer(fresh(FAST_LANE_SLOTS + HANDOFF_HELD));
    let accepted = false;
    const waiting = handoff.offer(fresh(5, 100000)).then(() => (accepted = true));
    await tick();
    expect(accepted).toBe(false);
    finish.splice(0, 1).forEach((f) => f());
    await waiting;
    expect(accepted).toBe(true);
  });

  it('a failed attempt only logs: the others go on', async () => {
    const handoff = new DeliveryHandoff({} as WebhookDeliveryRepository);
    const done: string[] = [];
    handoff.serve(async (f) => {
      if (f.due.id === 'd1') throw new Error('database down');
      done.push(f.due.id);
    });
    await handoff.offer(fresh(3));
    await tick();
    expect(done).toEqual(['d0', 'd2']);
  });

  it('on SIGTERM gives back what it holds and what is offered later, and waits for attempts on the wire', async () => {
    const { handoff, started, finish, givenBack } = setup();
    await handoff.offer(fresh(FAST_LANE_SLOTS + 3));
    let stopped = false;
    const stopping = handoff.beforeApplicationShutdown().then(() => (stopped = true));
    await tick();
    expect(givenBack).toEqual([
      `d${FAST_LANE_SLOTS}`,
      `d${FAST_LANE_SLOTS + 1}`,
      `d${FAST_LANE_SLOTS + 2}`,
    ]);
    expect(stopped).toBe(false);
    finish.forEach((f) => f());
    await stopping;
    expect(started).toHaveLength(FAST_LANE_SLOTS);
    expect(handoff.accepting).toBe(false);
    await handoff.offer(fresh(1, 500));
    expect(givenBack.at(-1)).toBe('d500');
  });

  it('is not accepting until a dispatcher serves it', () => {
    expect(new DeliveryHandoff({} as WebhookDeliveryRepository).accepting).toBe(false);
  });
});
