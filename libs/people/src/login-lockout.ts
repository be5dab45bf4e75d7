import { Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { RedisClient, RedisConnections } from '@app/platform';

export const LOCKOUT_MAX_FAILURES = 5;
export const LOCKOUT_WINDOW_MS = 15 * 60 * 1000;
export const LOCKOUT_DURATION_MS = 15 * 60 * 1000;

/**
 * KEYS[1] the account's failure times (a sorted set), KEYS[2] its lock.
 * ARGV: now (ms), window, max failures, lock duration, a unique member.
 * Drops failures older than the window, adds this one, and locks once `max` are within it.
 * Returns {failures in window, 1 if now locked}.
 */
const RECORD_FAILURE = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], now, ARGV[5])
local n = redis.call('ZCARD', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if n >= tonumber(ARGV[3]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[4])
  redis.call('DEL', KEYS[1])
  return {n, 1}
end
return {n, 0}`;

/** The account's name in Redis: a hash of the normalised email, never the email itself. */
export function accountKey(email: string): string {
  return createHash('sha256').update(`ledgerline-login:${email}`).digest('hex').slice(0, 32);
}

/**
 * Five failed sign-ins for one account within 15 minutes lock it for 15 minutes. Counted in
 * Redis so every API replica agrees; unknown emails are counted like known ones (the answers
 * must not differ). Time comes from the caller (the injected clock).
 */
@Injectable()
export class LoginLockout {
  private readonly redis: RedisClient;
  private readonly prefix: string;

  constructor(redis: RedisConnections) {
    this.redis = redis.shared;
    this.prefix = `${redis.queuePrefix}:login`;
  }

  private keys(account: string): [string, string] {
    // The braces of the prefix (a hash tag) keep both keys in one Cluster slot.
    return [`${this.prefix}:${account}:f`, `${this.prefix}:${account}:l`];
  }

  /** Milliseconds the account stays locked; 0 when it is not. */
  async lockedFor(account: string): Promise<number> {
    const ttl = await this.redis.pttl(this.keys(account)[1]);
    return ttl > 0 ? ttl : 0;
  }

  async recordFailure(
    account: string,
    now: number,
  ): Promise<{ failures: number; locked: boolean }> {
    const [failures, lock] = this.keys(account);
    const [n, locked] = (await this.redis.eval(
      RECORD_FAILURE,
      2,
      failures,
      lock,
      now,
      LOCKOUT_WINDOW_MS,
      LOCKOUT_MAX_FAILURES,
      LOCKOUT_DURATION_MS,
      `${now}-${randomBytes(6).toString('hex')}`,
    )) as [number, number];
    return { failures: n, locked: locked === 1 };
  }

  /** A successful sign-in forgets the failures before it. */
  async clear(account: string): Promise<void> {
    await this.redis.del(this.keys(account)[0]);
  }
}
