import { Injectable } from '@nestjs/common';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { LedgerlineConfig } from '../config/ledgerline-config';
import { RedisConnections } from '../queue/redis-connections';
import { DomainError } from './domain-error';

/**
 * Requests per second per API key and per client IP, counted in Redis so every replica agrees.
 * If Redis is unreachable an in-memory limiter takes over rather than failing every request.
 */
@Injectable()
export class RateLimiter {
  private readonly perKey: RateLimiterRedis;
  private readonly perIp: RateLimiterRedis;

  constructor(config: LedgerlineConfig, redis: RedisConnections) {
    const storeClient = redis.open({ failFast: true });
    const make = (name: string, points: number) =>
      new RateLimiterRedis({
        storeClient,
        keyPrefix: `${redis.queuePrefix}:rl:${name}`,
        points,
        duration: 1,
        insuranceLimiter: new RateLimiterMemory({ points, duration: 1 }),
      });
    this.perKey = make('key', config.RATE_LIMIT_PER_KEY);
    this.perIp = make('ip', config.RATE_LIMIT_PER_IP);
  }

  consumeForKey(keyId: string): Promise<void> {
    return this.consume(this.perKey, keyId);
  }

  consumeForIp(ip: string): Promise<void> {
    return this.consume(this.perIp, ip);
  }

  private async consume(limiter: RateLimiterRedis, id: string): Promise<void> {
    try {
      await limiter.consume(id);
    } catch (res) {
      if (res instanceof RateLimiterRes) {
        const retryAfter = String(Math.max(1, Math.ceil(res.msBeforeNext / 1000)));
        throw new DomainError('rate_limited', 'Too many requests', undefined, {
          'retry-after': retryAfter,
        });
      }
      // Neither limiter could count: let the request through rather than refuse everyone.
    }
  }
}
