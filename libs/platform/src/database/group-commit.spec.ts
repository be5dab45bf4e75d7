import { Database, Tx } from './database';
import { GroupCommit } from './group-commit';

/** A database whose transactions run at once; `fail` may throw from inside one. */
function fakeDatabase(fail: (attempt: number, inputs: number[]) => Error | null = () => null) {
  const batches: number[][] = [];
  let attempt = 0;
  const units: string[] = [];
  const unit = (kind: string) => async (work: (tx: Tx) => Promise<unknown>) => {
    units.push(kind);
    const result = await work({} as Tx);
    const inputs = batches[batches.length - 1];
    const err = fail(attempt++, inputs);
    if (err) throw err;
    return result;
  };
  const db = { transaction: unit('transaction'), oneStatement: unit('one statement') };
  return { db: db as unknown as Database, batches, units };
}

const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });

describe('GroupCommit', () => {
  it('groups what arrives while two commits are in flight into the next one, in order', async () => {
    const { db, batches } = fakeDatabase();
    const commits = new GroupCommit<number, string>(db, async (_tx, inputs) => {
      batches.push(inputs);
      await new Promise((r) => setTimeout(r, 5));
      return inputs.map((i) => `ok ${i}`);
    });
    const answers = await Promise.all([1, 2, 3, 4, 5].map((i) => commits.submit(i)));
    expect(answers).toEqual(['ok 1', 'ok 2', 'ok 3', 'ok 4', 'ok 5']);
    expect(batches).toEqual([[1], [2], [3, 4, 5]]);
    expect(commits.idle).toBe(true);
  });

  it('ends a batch before the input that would exceed a limit', async () => {
    const { db, batches } = fakeDatabase();
    const commits = new GroupCommit<number, number>(
      db,
      async (_tx, inputs) => {
        batches.push(inputs);
        return inputs;
      },
      { maxInFlight: 1, limits: [{ weigh: (i) => i, max: 10 }] },
    );
    await Promise.all([1, 6, 4, 1, 20, 2].map((i) => commits.submit(i)));
    expect(batches).toEqual([[1], [6, 4], [1], [20], [2]]);
  });

  it('rejects only the input whose outcome is an Error', async () => {
    const { db, batches } = fakeDatabase();
    const commits = new GroupCommit<number, number>(db, async (_tx, inputs) => {
      batches.push(inputs);
      return inputs.map((i) => (i === 2 ? new Error('two is refused') : i * 10));
    });
    const answers = await Promise.allSettled([1, 2, 3].map((i) => commits.submit(i)));
    expect(answers.map((a) => (a.status === 'fulfilled' ? a.value : a.reason.message))).toEqual([
      10,
      'two is refused',
      30,
    ]);
  });

  it('runs a deadlocked batch again, and commits one at a time when an input is refused', async () => {
    const { db, batches } = fakeDatabase((attempt, inputs) => {
      if (attempt === 0) return pgError('40P01');
      return inputs.includes(7) ? pgError('22P05') : null;
    });
    const commits = new GroupCommit<number, number>(
      db,
      async (_tx, inputs) => {
        batches.push(inputs);
        return inputs;
      },
      { maxInFlight: 1 },
    );
    const first = commits.submit(1);
    const rest = [7, 8].map((i) => commits.submit(i));
    const answers = await Promise.allSettled([first, ...rest]);
    expect(answers.map((a) => (a.status === 'fulfilled' ? a.value : a.reason.code))).toEqual([
      1,
      '22P05',
      8,
    ]);
    expect(batches).toEqual([[1], [1], [7, 8], [7], [8]]);
  });

  it('runs a batch without a transaction only where needsTransaction says it may', async () => {
    const { db, batches, units } = fakeDatabase();
    const commits = new GroupCommit<number, number>(
      db,
      async (_tx, inputs) => {
        batches.push(inputs);
        return inputs;
      },
      { maxInFlight: 1, needsTransaction: (inputs) => inputs.some((i) => i < 0) },
    );
    await commits.submit(1);
    await commits.submit(-1);
    expect(units).toEqual(['one statement', 'transaction']);
  });
});
