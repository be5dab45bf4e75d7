import { Injectable, Logger } from '@nestjs/common';
import { Periodic } from '@app/platform';
import { WebhookEndpointRepository } from './webhook-endpoint.repository';

/** An attempt this old, answered or still in flight, marks its endpoint slow. */
export const SLOW_MS = 2000;
/** An endpoint holding all its fast-lane slots is slow once its oldest attempt has run this long. */
export const CROWDED_SLOW_MS = 500;
/** A slow-lane attempt answered this quickly returns its endpoint to the fast lane. */
const FAST_AGAIN_MS = 500;
const SLOW_FOR_MS = 60000;
/** Fast-lane jobs one worker runs at once, and how many of them one endpoint may hold. */
export const FAST_LANE_SLOTS = 256;
export const ENDPOINT_SLOTS = 128;
const CHECK_EVERY_MS = 250;

/** One endpoint's hold on a fast-lane slot: `sending` starts the clock on its HTTP attempt. */
export interface LaneSlot {
  sending(): void;
  release(): void;
}

interface EndpointTraffic {
  tenantId: string;
  /** Slot id → when its HTTP attempt started (0 while claiming). Insertion order = age order. */
  slots: Map<number, number>;
  waiters: (() => void)[];
}

/**
 * Keeps slow endpoints from taking the slots healthy ones need. In the fast lane an endpoint
 * holds at most ENDPOINT_SLOTS of a worker's FAST_LANE_SLOTS; once one of its attempts has run
 * SLOW_MS (answered or not), or CROWDED_SLOW_MS while it holds all its slots, it is marked slow
 * in PostgreSQL for every worker: the fast lane
 * then skips its jobs at once and the slow lane, with its own few slots, takes its due
 * deliveries from PostgreSQL. One quick answer in the slow lane brings it back.
 */
@Injectable()
export class EndpointLanes {
  private readonly logger = new Logger(EndpointLanes.name);
  private readonly slowUntil = new Map<string, number>();
  private readonly traffic = new Map<string, EndpointTraffic>();
  private nextSlot = 0;

  constructor(private readonly endpoints: WebhookEndpointRepository) {}

  isSlow(endpointId: string): boolean {
    const until = this.slowUntil.get(endpointId);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.slowUntil.delete(endpointId);
    return false;
  }

  /** What PostgreSQL said (another worker may have marked the endpoint). */
  learn(endpointId: string, slowUntil: Date | null): void {
    if (slowUntil && slowUntil.getTime() > Date.now())
      this.slowUntil.set(endpointId, slowUntil.getTime());
  }

  /**
   * A fast-lane slot for one attempt to this endpoint, waiting while it holds its share;
   * null when the endpoint is (or turns) slow: the slow lane will take the delivery.
   */
  async admit(tenantId: string, endpointId: string): Promise<LaneSlot | null> {
    const traffic = this.trafficOf(tenantId, endpointId);
    while (traffic.slots.size >= ENDPOINT_SLOTS && !this.isSlow(endpointId)) {
      if (Date.now() - this.oldestAttempt(traffic) >= CROWDED_SLOW_MS) {
        await this.markSlow(tenantId, endpointId);
        break;
      }
      await new Promise<void>((resolve) => traffic.waiters.push(resolve));
    }
    if (this.isSlow(endpointId)) {
      traffic.waiters.shift()?.();
      this.forgetIfIdle(endpointId, traffic);
      return null;
    }
    const id = this.nextSlot++;
    traffic.slots.set(id, 0);
    return {
      sending: () => traffic.slots.set(id, Date.now()),
      release: () => {
        traffic.slots.delete(id);
        traffic.waiters.shift()?.();
        this.forgetIfIdle(endpointId, traffic);
      },
    };
  }

  /**
   * After an attempt in either lane. Answers true when the endpoint just came back to the fast
   * lane, so its waiting deliveries can be queued there. Only an HTTP answer can bring it back:
   * an attempt that failed without one (refused, blocked, cut short by a shutdown) says nothing
   * about how fast the endpoint answers.
   */
  async observe(
    tenantId: string,
    endpointId: string,
    durationMs: number,
    result: 'answered' | 'timeout' | 'error',
  ): Promise<boolean> {
    if (result === 'timeout' || durationMs >= SLOW_MS) {
      await this.markSlow(tenantId, endpointId);
      return false;
    }
    if (result === 'answered' && durationMs < FAST_AGAIN_MS && this.slowUntil.has(endpointId)) {
      this.slowUntil.delete(endpointId);
      await this.endpoints.setSlowUntil(tenantId, endpointId, null);
      return true;
    }
    return false;
  }

  private async markSlow(tenantId: string, endpointId: string): Promise<void> {
    const now = Date.now();
    const until = this.slowUntil.get(endpointId);
    // Extending a mark that still has most of its time left is not worth a write.
    if (until !== undefined && until - now > SLOW_FOR_MS / 2) return;
    this.slowUntil.set(endpointId, now + SLOW_FOR_MS);
    await this.endpoints.setSlowUntil(tenantId, endpointId, new Date(now + SLOW_FOR_MS));
    // Jobs waiting for this endpoint's slots give them back to healthy endpoints now.
    const traffic = this.traffic.get(endpointId);
    for (const wake of traffic?.waiters.splice(0) ?? []) wake();
  }

  /** An endpoint whose oldest attempt in flight has run SLOW_MS is slow before it answers. */
  @Periodic('endpoint-lanes', CHECK_EVERY_MS)
  private async markStuckEndpoints(): Promise<void> {
    const now = Date.now();
    for (const [endpointId, traffic] of this.traffic) {
      if (now - this.oldestAttempt(traffic) < SLOW_MS || this.isSlow(endpointId)) continue;
      this.logger.warn(`endpoint ${endpointId} moves to the slow lane: no answer in ${SLOW_MS} ms`);
      await this.markSlow(traffic.tenantId, endpointId);
    }
  }

  /** When the oldest attempt in flight started (Infinity when none is sending). */
  private oldestAttempt(traffic: EndpointTraffic): number {
    for (const started of traffic.slots.values()) if (started > 0) return started;
    return Infinity;
  }

  private trafficOf(tenantId: string, endpointId: string): EndpointTraffic {
    let traffic = this.traffic.get(endpointId);
    if (!traffic) {
      traffic = { tenantId, slots: new Map(), waiters: [] };
      this.traffic.set(endpointId, traffic);
    }
    return traffic;
  }

  private forgetIfIdle(endpointId: string, traffic: EndpointTraffic): void {
    if (!traffic.slots.size && !traffic.waiters.length) this.traffic.delete(endpointId);
  }
}
