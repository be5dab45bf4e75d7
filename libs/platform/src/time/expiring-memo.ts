/**
 * Promises kept per key for `ttlMs`: callers within that window share one load (a console
 * verify, an endpoint snapshot), and a failed load is not kept, so the next caller tries again.
 * Expired entries are dropped at most once per window, so a lookup stays O(1) on average.
 */
export class ExpiringMemo<T> {
  private readonly entries = new Map<string, { at: number; value: Promise<T> }>();
  private prunedAt = -Infinity;

  constructor(
    private readonly now: () => number,
    private readonly ttlMs: number,
  ) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    const at = this.now();
    this.prune(at);
    const kept = this.entries.get(key);
    if (kept && at - kept.at < this.ttlMs) return kept.value;
    const value = load();
    this.entries.set(key, { at, value });
    value.catch(() => this.entries.get(key)?.value === value && this.entries.delete(key));
    return value;
  }

  /** The next `get` of this key loads again (the caller just changed what it holds). */
  forget(key: string): void {
    this.entries.delete(key);
  }

  private prune(at: number): void {
    if (at - this.prunedAt < this.ttlMs) return;
    this.prunedAt = at;
    for (const [key, entry] of this.entries)
      if (at - entry.at >= this.ttlMs) this.entries.delete(key);
  }
}
