import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { LedgerlineConfig } from '../config/ledgerline-config';

/** ioredis clients: one shared for commands, one per BullMQ worker (blocking reads need their own). */
@Injectable()
export class RedisConnections implements OnApplicationShutdown {
  private readonly opened: Redis[] = [];
  readonly shared: Redis;

  constructor(private readonly config: LedgerlineConfig) {
    this.shared = this.open();
  }

  /** BullMQ workers need maxRetriesPerRequest: null so a Redis blip doesn't kill them. */
  open(opts: { failFast?: boolean } = {}): Redis {
    const client = new Redis(this.config.REDIS_URL, {
      // Request paths fail fast while Redis is away; workers wait for it to come back.
      maxRetriesPerRequest: opts.failFast ? 1 : null,
      enableOfflineQueue: !opts.failFast,
      enableReadyCheck: true,
      lazyConnect: false,
    });
    client.on('error', () => undefined); // reconnects by itself; readiness reports the outage
    this.opened.push(client);
    return client;
  }

  /** BullMQ prefix: the braces are a Redis Cluster hash tag, so one queue's keys share a slot. */
  get queuePrefix(): string {
    return `{${this.config.QUEUE_PREFIX}}`;
  }

  async onApplicationShutdown(): Promise<void> {
    // QUIT politely, but never let a stuck connection hold the shutdown.
    const polite = (c: Redis) =>
      Promise.race([c.quit().catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
    await Promise.all(this.opened.map((c) => polite(c).finally(() => c.disconnect())));
  }
}
