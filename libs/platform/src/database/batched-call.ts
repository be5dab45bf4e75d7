/**
 * Natural batching for a hot statement: calls that arrive while one batch is in flight are run
 * together as the next batch (one round trip, one statement). `run` gets the inputs in order and
 * must answer one output per input, in the same order.
 */
export class BatchedCall<I, O> {
  private queue: { input: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private inFlight = 0;

  constructor(
    private readonly run: (inputs: I[]) => Promise<O[]>,
    private readonly maxBatch = 500,
    private readonly maxInFlight = 2,
  ) {}

  call(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      this.run(batch.map((b) => b.input))
        .then((outputs) => batch.forEach((b, i) => b.resolve(outputs[i])))
        .catch((err: unknown) => batch.forEach((b) => b.reject(err)))
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }
}
