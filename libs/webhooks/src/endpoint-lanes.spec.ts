import {
  CROWDED_SLOW_MS,
  ENDPOINT_SLOTS,
  EndpointLanes,
  LaneSlot,
  SLOW_MS,
} from './endpoint-lanes';
import { WebhookEndpointRepository } from './webhook-endpoint.repository';

describe('EndpointLanes', () => {
  let marks: [string, Date | null][];
  let check: () => Promise<unknown>;
  let lanes: EndpointLanes;

  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2026-11-26T10:00:00Z') });
    marks = [];
    const endpoints = {
      setSlowUntil: (_t: string, id: string, until: Date | null) => {
        marks.push([id, until]);
        return Promise.resolve();
      },
    } as unknown as WebhookEndpointRepository;
    lanes = new EndpointLanes(endpoints);
    check = () =>
      (lanes as unknown as { markStuckEndpoints(): Promise<void> }).markStuckEndpoints();
  });

  afterEach(() => jest.useRealTimers());

  async function fill(endpointId: string): Promise<LaneSlot[]> {
    const slots: LaneSlot[] = [];
    for (let i = 0; i < ENDPOINT_SLOTS; i++) slots.push((await lanes.admit('t', endpointId))!);
    return slots;
  }

  it('lets one endpoint hold only its share of slots; the next attempt waits for a release', async () => {
    const slots = await fill('e1');
    let admitted: LaneSlot | null | undefined;
    void lanes.admit('t', 'e1').then((s) => (admitted = s));
    await Promise.resolve();
    expect(admitted).toBeUndefined();
    expect(await lanes.admit('t', 'e2')).not.toBeNull(); // other endpoints are not held up
    slots[0].release();
    await jest.advanceTimersByTimeAsync(0);
    expect(admitted).not.toBeNull();
  });

  it('marks an endpoint slow after a slow answer or a timeout, for every worker', async () => {
    await lanes.observe('t', 'e1', SLOW_MS + 1, 'answered');
    await lanes.observe('t', 'e2', 10, 'timeout');
    await lanes.observe('t', 'e3', 300, 'answered');
    expect(lanes.isSlow('e1')).toBe(true);
    expect(lanes.isSlow('e2')).toBe(true);
    expect(lanes.isSlow('e3')).toBe(false);
    expect(marks.map(([id, until]) => [id, until!.getTime() - Date.now()])).toEqual([
      ['e1', 60000],
      ['e2', 60000],
    ]);
    expect(await lanes.admit('t', 'e1')).toBeNull();
  });

  it('marks an endpoint slow while its attempt is still in flight and frees its waiters', async () => {
    const slots = await fill('e1');
    slots[0].sending();
    const waiting = lanes.admit('t', 'e1');
    jest.setSystemTime(Date.now() + SLOW_MS - 1);
    await check();
    expect(lanes.isSlow('e1')).toBe(false);
    jest.setSystemTime(Date.now() + 2);
    await check();
    expect(lanes.isSlow('e1')).toBe(true);
    expect(await waiting).toBeNull();
  });

  it('marks an endpoint slow when it holds all its slots and its oldest attempt is not quick', async () => {
    const slots = await fill('e1');
    slots[0].sending();
    jest.setSystemTime(Date.now() + CROWDED_SLOW_MS);
    expect(await lanes.admit('t', 'e1')).toBeNull();
    expect(lanes.isSlow('e1')).toBe(true);
  });

  it('brings an endpoint back after one quick answer and says so once', async () => {
    await lanes.observe('t', 'e1', SLOW_MS, 'answered');
    expect(await lanes.observe('t', 'e1', 5, 'error')).toBe(false); // no answer: no news
    expect(await lanes.observe('t', 'e1', 1000, 'answered')).toBe(false); // not quick enough
    expect(await lanes.observe('t', 'e1', 50, 'answered')).toBe(true);
    expect(await lanes.observe('t', 'e1', 50, 'answered')).toBe(false);
    expect(lanes.isSlow('e1')).toBe(false);
    expect(marks.at(-1)).toEqual(['e1', null]);
  });

  it('learns marks made by other workers and forgets them when they run out', () => {
    lanes.learn('e1', new Date(Date.now() + 1000));
    lanes.learn('e2', new Date(Date.now() - 1));
    lanes.learn('e3', null);
    expect(lanes.isSlow('e1')).toBe(true);
    expect(lanes.isSlow('e2')).toBe(false);
    jest.setSystemTime(Date.now() + 1001);
    expect(lanes.isSlow('e1')).toBe(false);
  });
});
