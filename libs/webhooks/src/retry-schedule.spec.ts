import { DEFAULT_RETRY_SCHEDULE_MS, parseSchedule, RetryPolicy } from './retry-schedule';

describe('RetryPolicy', () => {
  it('follows the default schedule with ±20 % jitter', () => {
    const low = new RetryPolicy(DEFAULT_RETRY_SCHEDULE_MS, () => 0);
    const high = new RetryPolicy(DEFAULT_RETRY_SCHEDULE_MS, () => 1);
    expect(low.nextDelay(1)).toBe(4000);
    expect(high.nextDelay(1)).toBe(6000);
    expect(low.nextDelay(2)).toBe(240000);
    expect(high.nextDelay(7)).toBe(36000 * 1000 * 1.2);
    expect(low.nextDelay(8)).toBeNull();
  });

  it('honours Retry-After capped at four times the scheduled delay', () => {
    const policy = new RetryPolicy([1000, 2000]);
    expect(policy.nextDelay(1, 3000)).toBe(3000);
    expect(policy.nextDelay(1, 60000)).toBe(4000);
    expect(policy.nextDelay(3, 10)).toBeNull();
  });

  it('parses WEBHOOK_RETRY_SCHEDULE', () => {
    expect(parseSchedule('1s,2s,4s')).toEqual([1000, 2000, 4000]);
    expect(parseSchedule('500ms, 1m,2h')).toEqual([500, 60000, 7200000]);
    expect(parseSchedule(undefined)).toEqual(DEFAULT_RETRY_SCHEDULE_MS);
    expect(() => parseSchedule('soon')).toThrow('WEBHOOK_RETRY_SCHEDULE');
  });
});
