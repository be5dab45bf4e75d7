const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60000, h: 3600000 };

/** MESSAGE_RETRY_SCHEDULE ("5s,30s,2m"): the waits before the 2nd, 3rd, ... tries. */
export function parseDurations(spec: string): number[] {
  return spec.split(',').map((part) => {
    const match = /^\s*(\d+)(ms|s|m|h)?\s*$/.exec(part);
    if (!match) throw new Error(`MESSAGE_RETRY_SCHEDULE: bad duration "${part}"`);
    return Number(match[1]) * UNIT_MS[match[2] ?? 's'];
  });
}

/** Backoff with ±20 % jitter; null once the schedule is used up (the message is failed). */
export class RetryBackoff {
  constructor(
    readonly schedule: number[],
    private readonly random: () => number = Math.random,
  ) {}

  /** The wait after try number `attempt` (from 1) failed. */
  nextDelay(attempt: number): number | null {
    const base = this.schedule[attempt - 1];
    if (base === undefined) return null;
    return Math.round(base * (0.8 + 0.4 * this.random()));
  }
}
