/** Where every replica's counts meet: adds `n` to a key's window, opening it for `windowMs`. */
export interface SharedCounterStore {
  /** The key's total after adding `n`, and the ms left in its window. */
  add(key: string, n: number, windowMs: number): Promise<{ total: number; msLeft: number }>;
}

export type Admission = { allowed: true } | { allowed: false; msBeforeNext: number };

interface KeyWindow {
  endsAt: number;
  /** The shared total as last read from the store (every replica's flushed counts). */
  known: number;
  /** Admitted here and not yet sent to the store. */
  pending: number;
  /** Sent to the store, answer not yet back. */
  inFlight: number;
  /** Whether the store has answered for this window yet (until then every request asks it). */
  synced: boolean;
}

/**
 * A fixed-window request counter shared by every replica through a store (Redis), without a
 * store round trip per request while a key is far from its limit.
 *
 * - A key's first request in a window asks the store, so a replica starts from the shared total.
 * - Below a quarter of the limit (as this replica knows the shared total), a request is admitted
 *   at once and counted locally; the local counts are added to the store in the background every
 *   `flushMs`, which also brings back the other replicas' counts.
 * - From a quarter of the limit on, every request is counted in the store before it is answered,
 *   so the decision at the limit is the store's; once the known total is at the limit, requests
 *   are refused without asking (the shared total only grows within a window).
 *
 * Tolerance: only the locally admitted counts can go unseen, at most a quarter of the limit per
 * replica, and only for one flush interval. So with R replicas the shared total stays within
 * the limit + (R − 1) × limit / 4 in any window, and exactly within the limit unless several
 * replicas take a burst for the same key within one flush interval. When the store cannot be
 * reached, each replica enforces the limit on its own. A window opens with a key's first request
 * (as the store's key expiry does), not on the clock.
 */
export class WindowCounter {
  private readonly windows = new Map<string, KeyWindow>();
  private readonly timer?: NodeJS.Timeout;

  constructor(
    private readonly store: SharedCounterStore,
    private readonly limit: number,
    private readonly windowMs = 1000,
    flushMs = 50,
    private readonly now: () => number = Date.now,
  ) {
    if (flushMs > 0) {
      this.timer = setInterval(() => void this.flush(), flushMs);
      this.timer.unref();
    }
  }

  async consume(key: string): Promise<Admission> {
    const w = this.windowOf(key);
    if (w.known >= this.limit) {
      return { allowed: false, msBeforeNext: Math.max(0, w.endsAt - this.now()) };
    }
    if (w.synced && w.known + w.pending + w.inFlight + 1 <= this.limit / 4) {
      w.pending++;
      return { allowed: true };
    }
    const n = w.pending + 1;
    w.pending = 0;
    const answer = await this.send(key, w, n);
    if (answer) {
      return answer.total <= this.limit
        ? { allowed: true }
        : { allowed: false, msBeforeNext: answer.msLeft };
    }
    // The store is away: this replica decides alone.
    if (w.known + w.pending + n > this.limit) {
      w.pending += n - 1;
      return { allowed: false, msBeforeNext: Math.max(0, w.endsAt - this.now()) };
    }
    w.pending += n;
    return { allowed: true };
  }

  /** Sends every key's local counts to the store (runs every `flushMs`). */
  async flush(): Promise<void> {
    const now = this.now();
    const sends: Promise<unknown>[] = [];
    for (const [key, w] of this.windows) {
      if (w.endsAt <= now) {
        // A window that ended takes its unsent counts with it: they belonged to it.
        if (w.inFlight === 0) this.windows.delete(key);
        continue;
      }
      if (w.pending === 0) continue;
      const n = w.pending;
      w.pending = 0;
      sends.push(
        this.send(key, w, n).then((answer) => {
          if (!answer) w.pending += n; // kept for the next try; the limit still holds locally
        }),
      );
    }
    await Promise.all(sends);
  }

  close(): void {
    clearInterval(this.timer);
  }

  private windowOf(key: string): KeyWindow {
    const now = this.now();
    let w = this.windows.get(key);
    if (!w || w.endsAt <= now) {
      w = { endsAt: now + this.windowMs, known: 0, pending: 0, inFlight: 0, synced: false };
      this.windows.set(key, w);
    }
    return w;
  }

  private async send(key: string, w: KeyWindow, n: number) {
    w.inFlight += n;
    try {
      const answer = await this.store.add(key, n, this.windowMs);
      w.known = Math.max(w.known, answer.total);
      w.synced = true;
      // The store's window is the shared one: follow it.
      if (answer.msLeft > 0) w.endsAt = this.now() + answer.msLeft;
      return answer;
    } catch {
      return null;
    } finally {
      w.inFlight -= n;
    }
  }
}
