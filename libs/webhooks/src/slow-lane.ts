import { Injectable, Logger } from '@nestjs/common';
import { Periodic } from '@app/platform';
import { ClaimedAttempt, SlowLaneCandidate } from './delivery';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';

/** The slow lane's slots per worker, at most this many per endpoint, and how often it looks. */
export const SLOW_LANE_SLOTS = 32;
export const SLOW_LANE_PER_ENDPOINT = 8;
/** Slots one tenant may never take: another tenant's slow endpoint always finds some free. */
export const SLOW_LANE_TENANT_RESERVE = 8;
const SLOW_LANE_POLL_MS = 250;

/** Attempts in flight, per tenant and per endpoint. */
export class LaneLoad {
  readonly byTenant = new Map<string, number>();
  readonly byEndpoint = new Map<string, number>();

  get total(): number {
    let n = 0;
    for (const v of this.byTenant.values()) n += v;
    return n;
  }

  add(c: Pick<SlowLaneCandidate, 'tenantId' | 'endpointId'>, by = 1): void {
    bump(this.byTenant, c.tenantId, by);
    bump(this.byEndpoint, c.endpointId, by);
  }

  tenant(id: string): number {
    return this.byTenant.get(id) ?? 0;
  }

  endpoint(id: string): number {
    return this.byEndpoint.get(id) ?? 0;
  }
}

function bump(map: Map<string, number>, key: string, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n > 0) map.set(key, n);
  else map.delete(key);
}

export interface FairShareLimits {
  slots: number;
  perEndpoint: number;
  tenantReserve: number;
}

/**
 * Picks which candidates get the free slots: tenants first, then endpoints. The next slot goes
 * to the tenant with the fewest attempts in flight (counting those picked so far), and within it
 * to its endpoint with the fewest; no endpoint holds more than `perEndpoint`, and no tenant more
 * than `slots - tenantReserve`, so one tenant's hanging endpoints leave room for the others.
 */
export function fairPick(
  candidates: SlowLaneCandidate[],
  inFlight: LaneLoad,
  limits: FairShareLimits,
): SlowLaneCandidate[] {
  const load = new LaneLoad();
  for (const [t, n] of inFlight.byTenant) load.byTenant.set(t, n);
  for (const [e, n] of inFlight.byEndpoint) load.byEndpoint.set(e, n);
  const queues = new Map<string, SlowLaneCandidate[]>();
  for (const c of candidates) {
    const queue = queues.get(c.tenantId) ?? [];
    queue.push(c);
    queues.set(c.tenantId, queue);
  }
  const tenantMax = limits.slots - limits.tenantReserve;
  const picked: SlowLaneCandidate[] = [];
  while (load.total < limits.slots) {
    const next = nextPick(queues, load, limits.perEndpoint, tenantMax);
    if (!next) break;
    picked.push(next);
    load.add(next);
  }
  return picked;
}

/** The least loaded tenant's least loaded endpoint's oldest candidate, removed from its queue. */
function nextPick(
  queues: Map<string, SlowLaneCandidate[]>,
  load: LaneLoad,
  perEndpoint: number,
  tenantMax: number,
): SlowLaneCandidate | undefined {
  let best: { tenant: string; index: number; score: [number, number] } | undefined;
  for (const [tenant, queue] of queues) {
    if (load.tenant(tenant) >= tenantMax) continue;
    for (let index = 0; index < queue.length; index++) {
      const e = load.endpoint(queue[index].endpointId);
      if (e >= perEndpoint) continue;
      const score: [number, number] = [load.tenant(tenant), e];
      if (
        !best ||
        score[0] < best.score[0] ||
        (score[0] === best.score[0] && score[1] < best.score[1])
      )
        best = { tenant, index, score };
    }
  }
  if (!best) return undefined;
  const [chosen] = queues.get(best.tenant)!.splice(best.index, 1);
  return chosen;
}

/**
 * The slow lane: slow endpoints' due deliveries taken straight from PostgreSQL, with a few slots
 * of its own per worker shared fairly across tenants, then endpoints (see fairPick).
 */
@Injectable()
export class SlowLane {
  private readonly logger = new Logger(SlowLane.name);
  private readonly load = new LaneLoad();
  private leaseMs = 0;
  private attempt?: (claimed: ClaimedAttempt) => Promise<void>;

  constructor(private readonly deliveries: WebhookDeliveryRepository) {}

  /** The dispatcher says how to make one claimed attempt (which must not throw). */
  serve(leaseMs: number, attempt: (claimed: ClaimedAttempt) => Promise<void>): void {
    this.leaseMs = leaseMs;
    this.attempt = attempt;
  }

  /** Runs on the worker's timer (a declared periodic task), once a dispatcher serves it. */
  @Periodic('webhook-slow-lane', SLOW_LANE_POLL_MS)
  async poll(): Promise<void> {
    const attempt = this.attempt;
    if (!attempt) return;
    const free = SLOW_LANE_SLOTS - this.load.total;
    if (free <= 0) return;
    const full = [...this.load.byEndpoint]
      .filter(([, n]) => n >= SLOW_LANE_PER_ENDPOINT)
      .map(([id]) => id);
    const candidates = await this.deliveries.slowLaneCandidates(
      SLOW_LANE_SLOTS * 2,
      SLOW_LANE_PER_ENDPOINT,
      full,
    );
    const picked = fairPick(candidates, this.load, {
      slots: SLOW_LANE_SLOTS,
      perEndpoint: SLOW_LANE_PER_ENDPOINT,
      tenantReserve: SLOW_LANE_TENANT_RESERVE,
    });
    for (const claimed of await this.deliveries.claimSlowLane(picked, this.leaseMs)) {
      const slot = { tenantId: claimed.endpoint.tenantId, endpointId: claimed.endpoint.id };
      this.load.add(slot);
      void attempt(claimed)
        .catch((err: Error) =>
          // The lease runs out and the delivery is due again: nothing is lost.
          this.logger.warn(`slow-lane attempt of ${claimed.deliveryId} failed: ${err.message}`),
        )
        .finally(() => this.load.add(slot, -1));
    }
  }
}
