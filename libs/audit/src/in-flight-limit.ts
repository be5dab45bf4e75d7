import { DomainError } from '@app/platform';

/**
 * A per-process cap on expensive requests (export streams, verify runs): over the cap the
 * answer is 503 problem+json with Retry-After, so clients back off instead of piling up.
 */
export class InFlightLimit {
  private inFlight = 0;

  constructor(
    private readonly max: number,
    private readonly what: string,
    private readonly retryAfterSeconds = 5,
  ) {}

  /** Takes a slot or throws; the returned release is safe to call more than once. */
  enter(): () => void {
    if (this.inFlight >= this.max) {
      throw new DomainError(
        'unavailable',
        `Too many ${this.what} in progress; retry shortly`,
        undefined,
        { 'retry-after': String(this.retryAfterSeconds) },
      );
    }
    this.inFlight++;
    let held = true;
    return () => {
      if (held) this.inFlight--;
      held = false;
    };
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    const release = this.enter();
    try {
      return await work();
    } finally {
      release();
    }
  }
}
