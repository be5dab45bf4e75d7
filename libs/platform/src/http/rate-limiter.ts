import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { LedgerlineConfig } from '../config/ledgerline-config';
import { RedisClient, RedisConnections } from '../queue/redis-connections';
import { DomainError } from './domain-error';
import { SharedCounterStore, WindowCounter } from './window-counter';

// One round trip: add to the key's window, opening it (expiry) with its first count.
const ADD_TO_WINDOW = `
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
if total == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) ttl = tonumber(ARGV[2]) end
return {total, ttl}`;

class RedisCounterStore implements SharedCounterStore {
  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
  ) {}

  async add(key: string, n: number, windowMs: number) {
    const [total, msLeft] = (await this.client.eval(
      ADD_TO_WINDOW,
      1,
      `${this.prefix}:${key}`,
      n,
      windowMs,
    )) as [number, number];
    return { total, msLeft };
  }
}

/**
 * Requests per second per API key and per client IP, shared by every replica through Redis.
 * A key far below its limit costs no Redis round trip (see WindowCounter for how counts are
 * reconciled and the stated tolerance); near the limit Redis decides. If Redis is unreachable
 * each replica enforces the limit on its own rather than failing every request.
 */
@Injectable()
export class RateLimiter implements OnModuleDestroy {
  private readonly perKey: WindowCounter;
  private readonly perIp: WindowCounter;

  constructor(config: LedgerlineConfig, redis: RedisConnections) {
    const client = redis.open({ failFast: true });
    const make = (name: string, limit: number) =>
      new WindowCounter(new RedisCounterStore(client, `${redis.queuePrefix}:rl:${name}`), limit);
    this.perKey = make('key', config.RATE_LIMIT_PER_KEY);
    this.perIp = make('ip', config.RATE_LIMIT_PER_IP);
  }

  consumeForKey(keyId: string): Promise<void> {
    return this.consume(this.perKey, keyId);
  }

  consumeForIp(ip: string): Promise<void> {
    return this.consume(this.perIp, ip);
  }

  onModuleDestroy(): void {
    this.perKey.close();
    this.perIp.close();
  }

  private async consume(counter: WindowCounter, id: string): Promise<void> {
    const admission = await counter.consume(id);
    if (admission.allowed) return;
    const retryAfter = String(Math.max(1, Math.ceil(admission.msBeforeNext / 1000)));
    throw new DomainError('rate_limited', 'Too many requests', undefined, {
      'retry-after': retryAfter,
    });
  }
}
