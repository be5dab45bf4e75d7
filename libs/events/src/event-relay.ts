import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import {
  JobIds,
  LedgerlineConfig,
  ProcessorRegistry,
  QueueRegistry,
  STREAM_QUEUES,
} from '@app/platform';
import { EVENTS_CHANNEL } from './event-store';
import { StreamCursorRepository } from './stream-cursor.repository';

const POLL_MS = 1000;

// Commits that land within this long of a wake-up share one pass, and so one job per consumer:
// at a few hundred events/s it turns one transaction per event per consumer into one per several.
const RELAY_LINGER_MS = 40;

/**
 * Moves work from PostgreSQL to BullMQ. For every consumer it finds the tenants whose stream is
 * ahead of that consumer's cursor and adds one job per (consumer, tenant, head position), with a
 * deterministic id so repeated adds are no-ops. It keeps no state of its own: after a Redis
 * flush the next pass re-creates every job that PostgreSQL says is still owed.
 * Woken by NOTIFY after commits, and polls as a fallback.
 */
@Injectable()
export class EventRelay implements OnApplicationShutdown {
  private readonly logger = new Logger(EventRelay.name);
  private listener?: Client;
  private timer?: NodeJS.Timeout;
  private running = false;
  private again = false;
  private stopped = false;

  constructor(
    private readonly cursors: StreamCursorRepository,
    private readonly config: LedgerlineConfig,
    private readonly queues: QueueRegistry,
    private readonly processors: ProcessorRegistry,
  ) {}

  async start(): Promise<void> {
    this.timer = setInterval(() => this.wake(), POLL_MS);
    await this.listen();
    this.wake();
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ connectionString: this.config.DATABASE_URL });
    client.on('notification', () => this.wake());
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

  /** One pass: returns how many jobs it added (or re-added). */
  async pass(): Promise<number> {
    let added = 0;
    const declared = this.processors.declared().processors;
    for (const consumer of STREAM_QUEUES.filter((q) => declared.has(q))) {
      const lagging = await this.cursors.lagging(consumer);
      await this.queues.addBulk(
        consumer,
        lagging.map((r) => ({
          jobId: JobIds.stream(consumer, r.tenantId, r.position),
          data: { tenantId: r.tenantId, upTo: r.position },
        })),
      );
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
