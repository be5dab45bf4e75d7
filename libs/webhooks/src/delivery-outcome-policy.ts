import { RetryPolicy } from './retry-schedule';

/** What one attempt came to, as the sender saw it. */
export interface AttemptResult {
  statusCode: number | null;
  /** null for a 2xx; otherwise `http_<code>`, `timeout`, `dns_failure`, `blocked_destination`… */
  error: string | null;
  /** From a 429 or 503's Retry-After, when it had one. */
  retryAfterMs?: number;
}

/** The endpoint's failed attempts in a row (and since when), and whether it is disabled. */
export interface FailureHistory {
  failures: number;
  since: Date | null;
  disabled: boolean;
}

export interface OutcomeDecision {
  status: 'succeeded' | 'pending' | 'failed' | 'waiting';
  /** Delay before the next attempt while `pending`, else null. */
  delayMs: number | null;
  /** Set when this attempt disables the endpoint: the reason it gives. */
  disableReason: string | null;
  history: FailureHistory;
}

export interface OutcomePolicyOptions {
  schedule: number[];
  disableAfterFailures: number;
  disableAfterMs: number;
  random?: () => number;
}

/**
 * Decides what follows an attempt (SPEC section 5), without side effects: the delivery's next
 * status and delay, the endpoint's failure history, and whether the endpoint is disabled. A 410
 * disables at once; otherwise an endpoint whose last `disableAfterFailures` attempts all failed
 * over at least `disableAfterMs` is disabled. Once disabled, what is still owed waits instead of
 * being scheduled. Every failure counts alike (HTTP error, timeout, refused, DNS failure, blocked).
 */
export class DeliveryOutcomePolicy {
  private readonly retry: RetryPolicy;

  constructor(private readonly options: OutcomePolicyOptions) {
    this.retry = new RetryPolicy(options.schedule, options.random);
  }

  decide(
    result: AttemptResult,
    attempt: number,
    history: FailureHistory,
    now: Date,
  ): OutcomeDecision {
    if (result.error === null) {
      const history_ = { failures: 0, since: null, disabled: history.disabled };
      return { status: 'succeeded', delayMs: null, disableReason: null, history: history_ };
    }
    const failures = history.failures + 1;
    const since = history.since ?? now;
    const gone = result.statusCode === 410;
    const disableReason = history.disabled ? null : this.disableReason(gone, failures, since, now);
    const disabled = history.disabled || disableReason !== null;
    const delayMs = gone ? null : this.retry.nextDelay(attempt + 1, result.retryAfterMs);
    const status = gone
      ? 'waiting'
      : delayMs === null
        ? 'failed'
        : disabled
          ? 'waiting'
          : 'pending';
    return {
      status,
      delayMs: status === 'pending' ? delayMs : null,
      disableReason,
      history: { failures, since, disabled },
    };
  }

  /** A Retry-After header in milliseconds from `nowMs`: delta-seconds or an HTTP-date. */
  static retryAfterMs(value: string | string[] | undefined, nowMs: number): number | undefined {
    const raw = (Array.isArray(value) ? value[0] : value)?.trim();
    if (!raw) return undefined;
    if (/^\d+$/.test(raw)) return Number(raw) * 1000;
    const date = Date.parse(raw);
    return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
  }

  private disableReason(gone: boolean, failures: number, since: Date, now: Date): string | null {
    if (gone) return 'The endpoint answered 410 Gone';
    const spanMs = now.getTime() - since.getTime();
    if (failures < this.options.disableAfterFailures || spanMs < this.options.disableAfterMs)
      return null;
    return `${failures} consecutive failed attempts since ${since.toISOString()}`;
  }
}

/** One attempt of a batch recorded together, as the policy sees it. */
export interface BatchAttempt {
  endpointId: string;
  attempt: number;
  result: AttemptResult;
}

export interface BatchDecision {
  decisions: OutcomeDecision[];
  /** Per endpoint: its history after the batch and the reason if the batch disabled it. */
  endpoints: Map<string, { history: FailureHistory; disableReason: string | null }>;
}

/**
 * Decides a batch in order, carrying each endpoint's history from one attempt to the next.
 * An endpoint disabled anywhere in the batch schedules none of the batch's attempts: what
 * would have been pending waits (decide first, then schedule what is still owed).
 */
export function decideBatch(
  policy: DeliveryOutcomePolicy,
  attempts: BatchAttempt[],
  histories: Map<string, FailureHistory>,
  now: Date,
): BatchDecision {
  const endpoints: BatchDecision['endpoints'] = new Map();
  const decisions = attempts.map((a) => {
    const before = endpoints.get(a.endpointId);
    const history = before?.history ??
      histories.get(a.endpointId) ?? { failures: 0, since: null, disabled: false };
    const decision = policy.decide(a.result, a.attempt, history, now);
    endpoints.set(a.endpointId, {
      history: decision.history,
      disableReason: before?.disableReason ?? decision.disableReason,
    });
    return decision;
  });
  return {
    endpoints,
    decisions: decisions.map((d, i) =>
      d.status === 'pending' && endpoints.get(attempts[i].endpointId)!.history.disabled
        ? { ...d, status: 'waiting', delayMs: null }
        : d,
    ),
  };
}
