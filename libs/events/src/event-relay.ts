import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import {
  JobIds,
  LedgerlineConfig,
  Metrics,
  ProcessorRegistry,
  QueueRegistry,
  STREAM_QUEUES,
} from '@app/platform';
import { EVENTS_CHANNEL, FULL_PASS } from './event-store';
import { StreamCursorRepository } from './stream-cursor.repository';

const POLL_MS = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/**
 * The full pass (every stream, the safety net for a lost wake-up or lost jobs) runs every
 * POLL_MS, or less often when it is slow (many tenants): it may take at most this share of the time.
 */
const FULL_PASS_SHARE = 0.02;

// Commits that land within this long of a wake-up share one pass, and so one job per consumer:
// at a few hundred events/s it turns one transaction per event per consumer into one per several.
const RELAY_LINGER_MS = 40;

/**
 * Moves work from PostgreSQL to BullMQ. For every consumer it finds the tenants whose stream is
 * ahead of that consumer's cursor and adds one job per (consumer, tenant, head position), with a
 * deterministic id so repeated adds are no-ops. It keeps no state of its own: after a Redis
 * flush the next pass re-creates every job that PostgreSQL says is still owed.
 * Woken by NOTIFY after commits: the notification names the tenants with new events, and a pass
 * looks at those streams only, so its cost follows the active tenants, not all of them. A full
 * pass over every stream runs on a timer as the safety net (a lost notification, a Redis flush).
 */
@Injectable()
export class EventRelay implements OnApplicationShutdown {
  private readonly logger = new Logger(EventRelay.name);
  private listener?: Client;
  private timer?: NodeJS.Timeout;
  private running = false;
  private again = false;
  private stopped = false;
  /** Tenants named by wake-ups since the last pass. */
  private dirty = new Set<string>();
  private fullDue = true;
  private lastFull = 0;
  private lastFullMs = 0;
  /**
   * The stream position each (consumer, tenant) job was last added for, since the last full pass:
   * a named pass does not add the same job again (a Redis round trip per lagging tenant, most
   * of a pass's time); the full pass adds every owed job, whatever Redis lost meanwhile.
   */
  private readonly added = new Map<string, number>();

  constructor(
    private readonly cursors: StreamCursorRepository,
    private readonly config: LedgerlineConfig,
    private readonly queues: QueueRegistry,
    private readonly processors: ProcessorRegistry,
    private readonly metrics: Metrics,
  ) {}

  async start(): Promise<void> {
    this.timer = setInterval(() => {
      if (Date.now() - this.lastFull >= Math.max(POLL_MS, this.lastFullMs / FULL_PASS_SHARE)) {
        this.fullDue = true;
        this.wake();
      }
    }, POLL_MS);
    await this.listen();
    this.wake();
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ connectionString: this.config.DATABASE_URL });
    client.on('notification', (msg) => this.notified(msg.payload));
    client.on('error', () => {
      // Reconnect; the poll covers the gap.
      this.listener = undefined;
      setTimeout(() => void this.listen().catch(() => undefined), 1000);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
      this.listener = client;
    } catch (err) {
      this.logger.warn(`LISTEN failed, polling only: ${(err as Error).message}`);
      setTimeout(() => void this.listen().catch(() => undefined), 1000);
    }
  }

  /** A wake-up from a commit: the tenants it names, or a full pass. */
  notified(payload: string | undefined): void {
    if (!payload || payload === FULL_PASS) this.fullDue = true;
    else {
      for (const tenantId of payload.split(',')) {
        // Anyone may NOTIFY on the channel: what is not a tenant id asks for a full pass.
        if (UUID.test(tenantId)) this.dirty.add(tenantId);
        else this.fullDue = true;
      }
    }
    this.wake();
  }

  /** Coalesces wake-ups: at most one pass runs, and one more follows if woken meanwhile. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void new Promise((resolve) => setTimeout(resolve, RELAY_LINGER_MS))
      .then(() => this.pass())
      .catch((err: Error) => this.logger.warn(`relay pass failed: ${err.message}`))
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /**
   * One pass: returns how many jobs it added (or re-added). Over the tenants named since the
   * last pass, or over every stream when a full pass is due (or `full`).
   */
  async pass(full = false): Promise<number> {
    const everyStream = full || this.fullDue;
    const tenants = [...this.dirty];
    this.dirty.clear();
    if (everyStream) this.fullDue = false;
    else if (!tenants.length) return 0;
    const started = Date.now();
    try {
      const added = await this.relay(everyStream ? null : tenants);
      const ms = Date.now() - started;
      this.metrics.relayPass.observe({ kind: everyStream ? 'full' : 'named' }, ms / 1000);
      if (everyStream) {
        this.lastFull = Date.now();
        this.lastFullMs = ms;
      }
      return added;
    } catch (err) {
      // The named tenants are not lost: the next pass looks at every stream.
      this.fullDue = true;
      throw err;
    }
  }

  private async relay(tenants: string[] | null): Promise<number> {
    let added = 0;
    if (!tenants) this.added.clear();
    const declared = this.processors.declared().processors;
    for (const consumer of STREAM_QUEUES.filter((q) => declared.has(q))) {
      const lagging = (await this.cursors.lagging(consumer, tenants)).filter(
        (r) => !tenants || this.added.get(`${consumer} ${r.tenantId}`) !== r.position,
      );
      await this.queues.addBulk(
        consumer,
        lagging.map((r) => ({
          jobId: JobIds.stream(consumer, r.tenantId, r.position),
          data: { tenantId: r.tenantId, upTo: r.position },
        })),
      );
      for (const r of lagging) this.added.set(`${consumer} ${r.tenantId}`, r.position);
      added += lagging.length;
    }
    return added;
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.listener?.end().catch(() => undefined);
  }
}
