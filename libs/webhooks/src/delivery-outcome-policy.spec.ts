import {
  AttemptResult,
  BatchAttempt,
  decideBatch,
  DeliveryOutcomePolicy,
  FailureHistory,
} from './delivery-outcome-policy';

const SCHEDULE = [1000, 2000, 4000];
const HOUR = 3600_000;
const policy = (disableAfterFailures = 3, disableAfterMs = 0) =>
  new DeliveryOutcomePolicy({
    schedule: SCHEDULE,
    disableAfterFailures,
    disableAfterMs,
    random: () => 0.5, // no jitter
  });
const now = new Date('2026-01-01T12:00:00Z');
const clean: FailureHistory = { failures: 0, since: null, disabled: false };
const ok: AttemptResult = { statusCode: 200, error: null };
const http = (code: number, retryAfterMs?: number): AttemptResult => ({
  statusCode: code,
  error: `http_${code}`,
  retryAfterMs,
});

describe('DeliveryOutcomePolicy', () => {
  it('succeeds on a 2xx and resets the failure history', () => {
    const d = policy().decide(ok, 1, { failures: 2, since: now, disabled: false }, now);
    expect(d).toEqual({
      status: 'succeeded',
      delayMs: null,
      disableReason: null,
      history: { failures: 0, since: null, disabled: false },
    });
  });

  it('retries a failure after the schedule, then fails the delivery once it is exhausted', () => {
    const p = policy(100);
    expect(p.decide(http(500), 0, clean, now)).toMatchObject({ status: 'pending', delayMs: 1000 });
    expect(p.decide(http(500), 2, clean, now)).toMatchObject({ status: 'pending', delayMs: 4000 });
    expect(p.decide(http(500), 3, clean, now)).toMatchObject({ status: 'failed', delayMs: null });
  });

  it('honours Retry-After up to four times the next scheduled delay', () => {
    const p = policy(100);
    // next delay 2000: 3 s is honoured, 1 h is capped at 8 s
    expect(p.decide(http(429, 3000), 1, clean, now).delayMs).toBe(3000);
    expect(p.decide(http(503, HOUR), 1, clean, now).delayMs).toBe(8000);
    expect(p.decide(http(429, 0), 1, clean, now).delayMs).toBe(0);
  });

  it('reads Retry-After as delta-seconds or as an HTTP-date', () => {
    const nowMs = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
    expect(DeliveryOutcomePolicy.retryAfterMs('120', nowMs)).toBe(120_000);
    expect(DeliveryOutcomePolicy.retryAfterMs(' 7 ', nowMs)).toBe(7000);
    expect(DeliveryOutcomePolicy.retryAfterMs('Wed, 21 Oct 2015 07:28:30 GMT', nowMs)).toBe(30_000);
    expect(DeliveryOutcomePolicy.retryAfterMs(['Wed, 21 Oct 2015 07:29:00 GMT'], nowMs)).toBe(
      60_000,
    );
    // a date in the past means now; garbage and absence mean the schedule
    expect(DeliveryOutcomePolicy.retryAfterMs('Wed, 21 Oct 2015 07:00:00 GMT', nowMs)).toBe(0);
    expect(DeliveryOutcomePolicy.retryAfterMs('soon', nowMs)).toBeUndefined();
    expect(DeliveryOutcomePolicy.retryAfterMs(undefined, nowMs)).toBeUndefined();
    // an HTTP-date far ahead is still capped by the policy
    const far = DeliveryOutcomePolicy.retryAfterMs('Thu, 22 Oct 2015 07:28:00 GMT', nowMs);
    expect(policy(100).decide(http(429, far), 0, clean, now).delayMs).toBe(4000);
  });

  it('disables at once on 410 Gone; the delivery waits and nothing is scheduled', () => {
    const d = policy(100).decide(http(410), 0, clean, now);
    expect(d).toEqual({
      status: 'waiting',
      delayMs: null,
      disableReason: 'The endpoint answered 410 Gone',
      history: { failures: 1, since: now, disabled: true },
    });
  });

  it('disables after N failures in a row only once they span the configured time', () => {
    const p = policy(3, 24 * HOUR);
    const since = new Date(now.getTime() - 23 * HOUR);
    const young = p.decide(http(500), 0, { failures: 2, since, disabled: false }, now);
    expect(young).toMatchObject({ status: 'pending', disableReason: null });
    expect(young.history).toEqual({ failures: 3, since, disabled: false });
    const later = new Date(since.getTime() + 24 * HOUR);
    const old = p.decide(http(500), 0, young.history, later);
    expect(old.status).toBe('waiting');
    expect(old.delayMs).toBeNull();
    expect(old.disableReason).toBe(`4 consecutive failed attempts since ${since.toISOString()}`);
    // enough time but too few failures
    const few = p.decide(http(500), 0, { failures: 0, since: new Date(0), disabled: false }, now);
    expect(few.disableReason).toBeNull();
  });

  it('counts a DNS failure or a timeout like any failed attempt', () => {
    for (const error of ['dns_failure', 'timeout', 'econnrefused']) {
      const d = policy(2).decide(
        { statusCode: null, error },
        0,
        { failures: 1, since: now, disabled: false },
        now,
      );
      expect(d.disableReason).toMatch(/^2 consecutive failed attempts/);
    }
  });

  it('does not disable an endpoint twice; a failure for a disabled endpoint waits', () => {
    const d = policy(1).decide(http(500), 0, { failures: 5, since: now, disabled: true }, now);
    expect(d).toMatchObject({ status: 'waiting', delayMs: null, disableReason: null });
  });
});

describe('decideBatch', () => {
  const attempt = (endpointId: string, result: AttemptResult, n = 0): BatchAttempt => ({
    endpointId,
    attempt: n,
    result,
  });

  it('carries each endpoint history through the batch in order', () => {
    const { decisions, endpoints } = decideBatch(
      policy(100),
      [attempt('a', http(500)), attempt('a', ok), attempt('a', http(500)), attempt('b', http(500))],
      new Map([['b', { failures: 4, since: new Date(0), disabled: false }]]),
      now,
    );
    expect(decisions.map((d) => d.status)).toEqual(['pending', 'succeeded', 'pending', 'pending']);
    expect(endpoints.get('a')).toEqual({
      history: { failures: 1, since: now, disabled: false },
      disableReason: null,
    });
    expect(endpoints.get('b')!.history).toEqual({
      failures: 5,
      since: new Date(0),
      disabled: false,
    });
  });

  it('schedules nothing for an endpoint the batch disabled, even attempts decided before', () => {
    const { decisions, endpoints } = decideBatch(
      policy(3),
      [attempt('a', http(500)), attempt('a', http(500)), attempt('a', http(500)), attempt('c', ok)],
      new Map([['a', { failures: 1, since: now, disabled: false }]]),
      now,
    );
    expect(decisions.map((d) => [d.status, d.delayMs])).toEqual([
      ['waiting', null],
      ['waiting', null],
      ['waiting', null],
      ['succeeded', null],
    ]);
    expect(endpoints.get('a')!.disableReason).toBe(
      `3 consecutive failed attempts since ${now.toISOString()}`,
    );
    expect(endpoints.get('c')!.disableReason).toBeNull();
  });
});
