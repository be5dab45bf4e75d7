import { SlowLaneCandidate } from './delivery';
import { fairPick, LaneLoad } from './slow-lane';

const LIMITS = { slots: 32, perEndpoint: 8, tenantReserve: 8 };

/** `n` due deliveries for each of `endpoints` endpoints of `tenant`, interleaved as ranked. */
function due(tenant: string, endpoints: number, n: number): SlowLaneCandidate[] {
  const out: SlowLaneCandidate[] = [];
  for (let i = 0; i < n; i++)
    for (let e = 0; e < endpoints; e++)
      out.push({
        tenantId: tenant,
        endpointId: `${tenant}-e${e}`,
        deliveryId: `${tenant}-${e}-${i}`,
      });
  return out;
}

function count(picked: SlowLaneCandidate[], key: 'tenantId' | 'endpointId') {
  const counts: Record<string, number> = {};
  for (const p of picked) counts[p[key]] = (counts[p[key]] ?? 0) + 1;
  return counts;
}

describe('fairPick (the slow lane across tenants, then endpoints)', () => {
  it('one tenant with four hanging endpoints leaves slots for another tenant', () => {
    // Tenant a has hung on all it may hold; tenant b's slow endpoint becomes due.
    const busy = new LaneLoad();
    for (let e = 0; e < 3; e++) busy.add({ tenantId: 'a', endpointId: `a-e${e}` }, 8);
    const picked = fairPick([...due('a', 4, 8), ...due('b', 1, 8)], busy, LIMITS);
    expect(count(picked, 'tenantId')).toEqual({ b: 8 });
  });

  it('alone, a tenant may not take the reserve; with others, all slots split evenly', () => {
    const alone = fairPick(due('a', 4, 8), new LaneLoad(), LIMITS);
    expect(alone).toHaveLength(24);
    expect(count(alone, 'endpointId')).toEqual({ 'a-e0': 6, 'a-e1': 6, 'a-e2': 6, 'a-e3': 6 });

    const shared = fairPick(
      [...due('a', 4, 8), ...due('b', 2, 8), ...due('c', 1, 8)],
      new LaneLoad(),
      LIMITS,
    );
    expect(shared).toHaveLength(32);
    const byTenant = count(shared, 'tenantId');
    // c has one endpoint (8 at most); a and b share what is left evenly
    expect(byTenant.c).toBe(8);
    expect(Math.abs(byTenant.a - byTenant.b)).toBeLessThanOrEqual(1);
    expect(byTenant.a + byTenant.b).toBe(24);
    expect(count(shared, 'endpointId')['b-e0']).toBe(count(shared, 'endpointId')['b-e1']);
  });

  it('gives freed slots to the tenant with the fewest in flight, whatever the candidates order', () => {
    const busy = new LaneLoad();
    busy.add({ tenantId: 'a', endpointId: 'a-e0' }, 8);
    busy.add({ tenantId: 'a', endpointId: 'a-e1' }, 8);
    busy.add({ tenantId: 'b', endpointId: 'b-e0' }, 2);
    // a's candidates come first in the list; b and c still get the slots first
    const picked = fairPick([...due('a', 4, 8), ...due('b', 2, 8), ...due('c', 1, 8)], busy, {
      ...LIMITS,
      slots: 26,
    });
    expect(picked).toHaveLength(8);
    expect(count(picked, 'tenantId')).toEqual({ b: 3, c: 5 });
  });

  it('never exceeds the per-endpoint share nor the free slots', () => {
    const busy = new LaneLoad();
    busy.add({ tenantId: 'a', endpointId: 'a-e0' }, 7);
    const picked = fairPick(due('a', 1, 8), busy, LIMITS);
    expect(picked.map((p) => p.deliveryId)).toEqual(['a-0-0']);
    const full = new LaneLoad();
    full.add({ tenantId: 'x', endpointId: 'x-e0' }, 32);
    expect(fairPick(due('b', 2, 8), full, LIMITS)).toEqual([]);
  });
});
