import {
  cookieMaxAgeSeconds,
  needsTouch,
  SESSION_ABSOLUTE_MS,
  SESSION_IDLE_MS,
  sessionState,
} from './session-lifetime';

const T0 = new Date('2026-01-01T08:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const MIN = 60_000;

describe('session lifetimes', () => {
  it('is active until 30 minutes without use', () => {
    const s = { createdAt: T0, lastSeenAt: T0 };
    expect(sessionState(s, at(SESSION_IDLE_MS - 1))).toBe('active');
    expect(sessionState(s, at(SESSION_IDLE_MS))).toBe('idle_expired');
    expect(SESSION_IDLE_MS).toBe(30 * MIN);
  });

  it('stays active while used, up to 12 hours after sign-in', () => {
    const busy = (ms: number) => ({ createdAt: T0, lastSeenAt: at(ms - MIN) });
    expect(sessionState(busy(6 * 60 * MIN), at(6 * 60 * MIN))).toBe('active');
    expect(sessionState(busy(SESSION_ABSOLUTE_MS - 1), at(SESSION_ABSOLUTE_MS - 1))).toBe('active');
    expect(sessionState(busy(SESSION_ABSOLUTE_MS), at(SESSION_ABSOLUTE_MS))).toBe(
      'absolute_expired',
    );
    expect(SESSION_ABSOLUTE_MS).toBe(12 * 60 * MIN);
  });

  it('reports the absolute end first when both have passed', () => {
    expect(sessionState({ createdAt: T0, lastSeenAt: T0 }, at(13 * 60 * MIN))).toBe(
      'absolute_expired',
    );
  });

  it('writes last use at most once a minute', () => {
    expect(needsTouch(T0, at(59_999))).toBe(false);
    expect(needsTouch(T0, at(MIN))).toBe(true);
  });

  it('gives the cookie what is left of the absolute lifetime', () => {
    expect(cookieMaxAgeSeconds(T0, T0)).toBe(12 * 3600);
    expect(cookieMaxAgeSeconds(T0, at(SESSION_ABSOLUTE_MS + 5000))).toBe(0);
  });
});
