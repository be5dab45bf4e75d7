/** A session ends 30 minutes after its last use... */
export const SESSION_IDLE_MS = 30 * 60 * 1000;
/** ...and 12 hours after sign-in, however busy. */
export const SESSION_ABSOLUTE_MS = 12 * 60 * 60 * 1000;
/** Last use is written at most this often (a page and its polls cost one write a minute). */
export const SESSION_TOUCH_MS = 60 * 1000;

export type SessionState = 'active' | 'idle_expired' | 'absolute_expired';

export function sessionState(s: { createdAt: Date; lastSeenAt: Date }, now: Date): SessionState {
  const t = now.getTime();
  if (t - s.createdAt.getTime() >= SESSION_ABSOLUTE_MS) return 'absolute_expired';
  if (t - s.lastSeenAt.getTime() >= SESSION_IDLE_MS) return 'idle_expired';
  return 'active';
}

/** Whether this use should move the session's last-seen time. */
export function needsTouch(lastSeenAt: Date, now: Date): boolean {
  return now.getTime() - lastSeenAt.getTime() >= SESSION_TOUCH_MS;
}

/** Seconds the cookie may live: what is left of the absolute lifetime. */
export function cookieMaxAgeSeconds(createdAt: Date, now: Date): number {
  return Math.max(
    0,
    Math.floor((createdAt.getTime() + SESSION_ABSOLUTE_MS - now.getTime()) / 1000),
  );
}
