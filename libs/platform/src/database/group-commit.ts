import { Database, Tx } from './database';

/** One limit on a batch: the sum of `weigh` over its inputs stays at or under `max`. */
export interface BatchLimit<I> {
  weigh(input: I): number;
  max: number;
}

export interface GroupCommitOptions<I> {
  /** Commits at once: the next batch is built and sent while the previous one commits. */
  maxInFlight?: number;
  /** A batch ends before the input that would exceed any of these (its first input always fits). */
  limits?: BatchLimit<I>[];
  /**
   * Whether a batch's work needs a transaction around it; false where it runs one statement,
   * which then commits on its own (Database.oneStatement). Default: always.
   */
  needsTransaction?(inputs: I[]): boolean;
  /** Whole transactions retried on a deadlock or serialisation failure. */
  tries?: number;
}

/**
 * What one batch's transaction answers, one outcome per input in order: an Error rejects that
 * input alone (the others still commit), anything else is its answer once committed.
 */
export type GroupWork<I, O> = (tx: Tx, inputs: I[]) => Promise<(O | Error)[]>;

/** Deadlock or serialisation failure: the transaction can simply run again. */
const isTransient = (err: unknown) =>
  ['40P01', '40001'].includes(String((err as { code?: unknown }).code));

/** PostgreSQL data exceptions (class 22) and integrity violations (class 23) come from input. */
const isInputError = (err: unknown) =>
  /^2[23]/.test(String((err as { code?: unknown }).code ?? ''));

interface Waiting<I, O> {
  input: I;
  resolve(o: O): void;
  reject(e: unknown): void;
}

/**
 * Group commit: inputs that arrive while earlier commits are in flight are written together in
 * one transaction, and each is answered only after that commit. Where every writer must take one
 * row lock until commit (a tenant's event stream), this turns one commit per request into one
 * commit per batch. An input whose value PostgreSQL refuses does not fail the others: the batch
 * is then committed one input at a time.
 */
export class GroupCommit<I, O> {
  private queue: Waiting<I, O>[] = [];
  private inFlight = 0;
  private readonly maxInFlight: number;
  private readonly limits: BatchLimit<I>[];
  private readonly tries: number;
  private readonly needsTransaction: (inputs: I[]) => boolean;

  constructor(
    private readonly db: Database,
    private readonly work: GroupWork<I, O>,
    options: GroupCommitOptions<I> = {},
  ) {
    this.maxInFlight = options.maxInFlight ?? 2;
    this.limits = options.limits ?? [];
    this.tries = options.tries ?? 3;
    this.needsTransaction = options.needsTransaction ?? (() => true);
  }

  /** Whether nothing is queued or committing (a shutdown waits for this). */
  get idle(): boolean {
    return !this.inFlight && !this.queue.length;
  }

  /** Waits until every input handed in so far is answered. */
  async drain(): Promise<void> {
    while (!this.idle) await new Promise((r) => setTimeout(r, 10));
  }

  submit(input: I): Promise<O> {
    return this.submitMany([input])[0];
  }

  /** Inputs handed in together go into one batch (as far as the limits allow). */
  submitMany(inputs: I[]): Promise<O>[] {
    const answers = inputs.map(
      (input) => new Promise<O>((resolve, reject) => this.queue.push({ input, resolve, reject })),
    );
    this.pump();
    return answers;
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length) {
      const batch = this.takeBatch();
      this.inFlight++;
      void this.commit(batch, this.tries).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private takeBatch(): Waiting<I, O>[] {
    const sums = this.limits.map(() => 0);
    let n = 0;
    for (; n < this.queue.length; n++) {
      const input = this.queue[n].input;
      let over = false;
      this.limits.forEach((limit, i) => {
        sums[i] += limit.weigh(input);
        over ||= sums[i] > limit.max;
      });
      if (n > 0 && over) break;
    }
    return this.queue.splice(0, n);
  }

  private async commit(batch: Waiting<I, O>[], tries: number): Promise<void> {
    let outcomes: (O | Error)[];
    try {
      const inputs = batch.map((w) => w.input);
      const run = (tx: Tx) => this.work(tx, inputs);
      outcomes = await (this.needsTransaction(inputs)
        ? this.db.transaction(run)
        : this.db.oneStatement(run));
    } catch (err) {
      if (tries > 1 && isTransient(err)) return this.commit(batch, tries - 1);
      if (batch.length > 1 && isInputError(err)) {
        for (const w of batch) await this.commit([w], this.tries);
        return;
      }
      for (const w of batch) w.reject(err);
      return;
    }
    batch.forEach((w, i) => {
      const outcome = outcomes[i];
      if (outcome instanceof Error) w.reject(outcome);
      else w.resolve(outcome);
    });
  }
}
