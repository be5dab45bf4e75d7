import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import Redis, { Cluster, ClusterNode } from 'ioredis';
import { LedgerlineConfig } from '../config/ledgerline-config';

/** A standalone Redis or a Redis Cluster: BullMQ and the rate limiters take either. */
export type RedisClient = Redis | Cluster;

/** `host:port` entries of REDIS_CLUSTER_NODES as ioredis startup nodes. */
export function clusterNodes(entries: string[]): ClusterNode[] {
  return entries.map((entry) => {
    const at = entry.lastIndexOf(':');
    return { host: entry.slice(0, at), port: Number(entry.slice(at + 1)) };
  });
}

/**
 * ioredis clients: one shared for commands, one per BullMQ worker (blocking reads need their own;
 * BullMQ duplicates it for the blocking connection). With REDIS_CLUSTER_NODES every client is an
 * ioredis Cluster, so queues and rate limits all live on the cluster and REDIS_URL is ignored.
 */
@Injectable()
export class RedisConnections implements OnApplicationShutdown {
  private readonly opened: RedisClient[] = [];
  private readonly nodes: ClusterNode[];
  readonly shared: RedisClient;

  constructor(private readonly config: LedgerlineConfig) {
    this.nodes = clusterNodes(config.REDIS_CLUSTER_NODES ?? []);
    this.shared = this.open();
  }

  get isCluster(): boolean {
    return this.nodes.length > 0;
  }

  /** BullMQ workers need maxRetriesPerRequest: null so a Redis blip doesn't kill them. */
  open(opts: { failFast?: boolean } = {}): RedisClient {
    const options = {
      // Request paths fail fast while Redis is away; workers wait for it to come back.
      maxRetriesPerRequest: opts.failFast ? 1 : null,
      enableReadyCheck: true,
    };
    const client = this.isCluster
      ? new Cluster(this.nodes, {
          redisOptions: options,
          enableOfflineQueue: !opts.failFast,
          enableReadyCheck: true,
          // A flushed or restarting node answers CLUSTERDOWN / TRYAGAIN briefly: retry, don't fail.
          retryDelayOnClusterDown: 200,
          retryDelayOnTryAgain: 200,
        })
      : new Redis(this.config.REDIS_URL, {
          ...options,
          enableOfflineQueue: !opts.failFast,
          lazyConnect: false,
        });
    client.on('error', () => undefined); // reconnects by itself; readiness reports the outage
    this.opened.push(client);
    return client;
  }

  /**
   * Readiness: the Redis answers, or on a cluster every master answers and the cluster says its
   * slots are all served (`cluster_state:ok`), so a half-available cluster is not ready.
   */
  async ping(): Promise<void> {
    const shared = this.shared;
    if (!(shared instanceof Cluster)) {
      await shared.ping();
      return;
    }
    if (shared.status !== 'ready') throw new Error(`cluster client ${shared.status}`);
    const masters = shared.nodes('master');
    if (!masters.length) throw new Error('no cluster master connected');
    await Promise.all(masters.map((node) => node.ping()));
    const info = await masters[0].cluster('INFO');
    if (!/cluster_state:ok/.test(info)) throw new Error('cluster_state is not ok');
  }

  /** BullMQ prefix: the braces are a Redis Cluster hash tag, so one queue's keys share a slot. */
  get queuePrefix(): string {
    return `{${this.config.QUEUE_PREFIX}}`;
  }

  async onApplicationShutdown(): Promise<void> {
    // QUIT politely, but never let a stuck connection hold the shutdown.
    const polite = async (c: RedisClient) => {
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise((r) => (timer = setTimeout(r, 2000)));
      await Promise.race([c.quit().catch(() => undefined), stuck]);
      clearTimeout(timer);
    };
    await Promise.all(this.opened.map((c) => polite(c).finally(() => c.disconnect())));
  }
}
