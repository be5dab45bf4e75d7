import { Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { RedisClient, RedisConnections } from '@app/platform';

export const LOCKOUT_MAX_FAILURES = 5;
export const LOCKOUT_WINDOW_MS = 15 * 60 * 1000;
export const LOCKOUT_DURATION_MS = 15 * 60 * 1000;

/**
 * Every sign-in attempt is counted BEFORE its password is verified, so attempts in flight count
 * towards the limit (a burst gets no more than `max` guesses).
 * KEYS[1] the account's attempts (a sorted set: failures and attempts in flight), KEYS[2] its lock.
 * ARGV: now (ms), window, max, lock duration, this attempt's unique member.
 * Returns {1, 0} when the attempt may go on, {0, ms locked} when it may not.
 */
const BEGIN_ATTEMPT = `
local lock = redis.call('PTTL', KEYS[2])
if lock > 0 then return {0, lock} end
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  -- max attempts failed or still in flight: refused until the oldest leaves the window
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, math.max(1000, tonumber(oldest[2]) + tonumber(ARGV[2]) - now)}
end
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, 0}`;

/**
 * A failed attempt stays counted (re-added if a success cleared it meanwhile); the account is
 * locked once `max` are within the window. Same KEYS and ARGV; returns {count, 1 if locked now,
 * 2 if it was locked already}.
 */
const RECORD_FAILURE = `
local now = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[2]) > 0 then return {0, 2} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], 'NX', now, ARGV[5])
local n = redis.call('ZCARD', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if n >= tonumber(ARGV[3]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[4])
  redis.call('DEL', KEYS[1])
  return {n, 1}
end
return {n, 0}`;

/**
 * A successful attempt: no longer counted; the failures before it are forgotten unless the
 * account was locked meanwhile, which refuses the session after all. Returns ms locked (0: go on).
 */
const SUCCEED = `
local lock = redis.call('PTTL', KEYS[2])
if lock > 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return lock
end
redis.call('DEL', KEYS[1])
return 0`;

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

  /**
   * Checks the lock and counts the attempt in one step, before the password is verified.
   * `attempt` is null when the account is locked (`lockedMs` says for how long).
   */
  async begin(account: string, now: number): Promise<{ attempt: string | null; lockedMs: number }> {
    const [attempts, lock] = this.keys(account);
    const attempt = `${now}-${randomBytes(6).toString('hex')}`;
    const [ok, lockedMs] = (await this.redis.eval(
      BEGIN_ATTEMPT,
      2,
      attempts,
      lock,
      now,
      LOCKOUT_WINDOW_MS,
      LOCKOUT_MAX_FAILURES,
      LOCKOUT_DURATION_MS,
      attempt,
    )) as [number, number];
    return ok === 1 ? { attempt, lockedMs: 0 } : { attempt: null, lockedMs };
  }

  /** The attempt failed: it stays counted; `locked` once five are within 15 minutes. */
  async recordFailure(
    account: string,
    now: number,
    attempt = `${now}-${randomBytes(6).toString('hex')}`,
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
      attempt,
    )) as [number, number];
    // Locked by another attempt meanwhile: {failures: 0, locked: true}.
    return { failures: n, locked: locked >= 1 };
  }

  /**
   * The attempt succeeded: the failures before it are forgotten, unless the account was locked
   * while it was verified; then the milliseconds it stays locked (refuse the session).
   */
  async succeed(account: string, attempt: string): Promise<number> {
    const [attempts, lock] = this.keys(account);
    return (await this.redis.eval(SUCCEED, 2, attempts, lock, attempt)) as number;
  }

  /** Forgets the failures (the lock stays). */
  async clear(account: string): Promise<void> {
    await this.redis.del(this.keys(account)[0]);
  }
}
