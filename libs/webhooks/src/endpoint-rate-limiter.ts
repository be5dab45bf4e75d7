import { Injectable } from '@nestjs/common';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { RedisConnections } from '@app/platform';
import { WebhookEndpoint } from './webhook-endpoint';

/** Each endpoint's `rateLimitPerSecond`, shared by every worker through Redis. */
@Injectable()
export class EndpointRateLimiter {
  private readonly limiters = new Map<number, RateLimiterRedis>();

  constructor(private readonly redis: RedisConnections) {}

  /** 0 to go now, or how long to wait before the endpoint may take another attempt. */
  async wait(endpoint: Pick<WebhookEndpoint, 'id' | 'rateLimitPerSecond'>): Promise<number> {
    const limit = endpoint.rateLimitPerSecond;
    if (!limit) return 0;
    try {
      await this.limiterFor(limit).consume(endpoint.id);
      return 0;
    } catch (res) {
      return res instanceof RateLimiterRes ? Math.max(10, res.msBeforeNext) : 200;
    }
  }

  private limiterFor(limit: number): RateLimiterRedis {
    let limiter = this.limiters.get(limit);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: this.redis.shared,
        keyPrefix: `${this.redis.queuePrefix}:rl:endpoint:${limit}`,
        points: limit,
        duration: 1,
      });
      this.limiters.set(limit, limiter);
    }
    return limiter;
  }
}
