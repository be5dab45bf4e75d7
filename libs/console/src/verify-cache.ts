/** How long a console verify result is shown again instead of walking the chain once more. */
export const VERIFY_CACHE_MS = 10_000;

/**
 * The console's `?verify=1` walks a whole chain: one run per tenant and chain at a time, and its
 * result is reused for VERIFY_CACHE_MS, so a user repeating the link (or many users at once)
 * costs at most one full verification per tenant and chain every ten seconds per process.
 */
export class VerifyCache<T> {
  private readonly runs = new Map<string, { at: number; result: Promise<T> }>();

  constructor(
    private readonly now: () => number,
    private readonly ttlMs = VERIFY_CACHE_MS,
  ) {}

  get(key: string, verify: () => Promise<T>): Promise<T> {
    const at = this.now();
    for (const [k, run] of this.runs) if (at - run.at >= this.ttlMs) this.runs.delete(k);
    const cached = this.runs.get(key);
    if (cached) return cached.result;
    const result = verify();
    this.runs.set(key, { at, result });
    // A failed run is not kept: the next request tries again.
    result.catch(() => this.runs.get(key)?.result === result && this.runs.delete(key));
    return result;
  }
}
