/** Delays after the first attempt (SPEC section 5), each with ±20 % jitter. */
export const DEFAULT_RETRY_SCHEDULE_MS = [5, 300, 1800, 7200, 18000, 36000, 36000].map(
  (s) => s * 1000,
);

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60000, h: 3600000 };

export function parseSchedule(spec: string | undefined): number[] {
  if (!spec) return DEFAULT_RETRY_SCHEDULE_MS;
  return spec.split(',').map((part) => {
    const match = /^\s*(\d+)(ms|s|m|h)?\s*$/.exec(part);
    if (!match) throw new Error(`WEBHOOK_RETRY_SCHEDULE: bad duration "${part}"`);
    return Number(match[1]) * UNIT_MS[match[2] ?? 's'];
  });
}

export class RetryPolicy {
  constructor(
    readonly schedule: number[],
    private readonly random: () => number = Math.random,
  ) {}

  /** Delay before attempt number `attempt + 1` (attempt counts from 1), or null when exhausted. */
  nextDelay(attempt: number, retryAfterMs?: number): number | null {
    const base = this.schedule[attempt - 1];
    if (base === undefined) return null;
    if (retryAfterMs !== undefined && retryAfterMs >= 0) return Math.min(retryAfterMs, base * 4);
    return Math.round(base * (0.8 + 0.4 * this.random()));
  }
}
