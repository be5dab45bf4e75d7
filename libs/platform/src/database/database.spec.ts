import { Database } from './database';
import { LedgerlineConfig } from '../config/ledgerline-config';

/** A pool whose one client records its statements and fails the one named in `failOn`. */
function databaseWith(failOn?: string) {
  const statements: string[] = [];
  const client = {
    query: (q: string | { text: string }) => {
      const text = typeof q === 'string' ? q : q.text;
      statements.push(text);
      return text === failOn
        ? Promise.reject(new Error(`${text} failed`))
        : Promise.resolve({ rows: [] });
    },
    release: () => statements.push('release'),
  };
  const db = new Database({
    DATABASE_URL: 'postgres://x@127.0.0.1/x',
    DATABASE_POOL_SIZE: 1,
  } as LedgerlineConfig);
  (db as unknown as { pool: unknown }).pool = { connect: () => Promise.resolve(client) };
  return { db, statements };
}

describe('Database.transaction (the unit of work)', () => {
  it('runs after-commit hooks once, after COMMIT, in order, and a failing hook fails nothing', async () => {
    const { db, statements } = databaseWith();
    const result = await db.transaction(async (tx) => {
      await tx.query('INSERT 1');
      tx.afterCommit(() => statements.push('hook 1'));
      tx.afterCommit(() => {
        throw new Error('notification failed');
      });
      tx.afterCommit(() => statements.push('hook 3'));
      return 'done';
    });
    expect(result).toBe('done');
    expect(statements).toEqual(['BEGIN', 'INSERT 1', 'COMMIT', 'hook 1', 'hook 3', 'release']);
  });

  it('never runs the hooks of work that rolled back', async () => {
    const { db, statements } = databaseWith('COMMIT');
    await expect(
      db.transaction(async (tx) => {
        tx.afterCommit(() => statements.push('hook'));
        await tx.query('INSERT 1');
      }),
    ).rejects.toThrow('COMMIT failed');
    expect(statements).toEqual(['BEGIN', 'INSERT 1', 'COMMIT', 'ROLLBACK', 'release']);
  });
});

describe('Database.oneStatement (a unit of work that commits on its own)', () => {
  it('sends no BEGIN or COMMIT, runs the hooks after its statement, and refuses a second one', async () => {
    const { db, statements } = databaseWith();
    await db.oneStatement(async (tx) => {
      await tx.query('INSERT 1');
      tx.afterCommit(() => statements.push('hook'));
    });
    expect(statements).toEqual(['INSERT 1', 'hook', 'release']);

    await expect(
      db.oneStatement(async (tx) => {
        await tx.query('INSERT 1');
        await tx.query('INSERT 2');
      }),
    ).rejects.toThrow('second statement');
  });

  it('never runs the hooks when its statement failed', async () => {
    const { db, statements } = databaseWith('INSERT 1');
    await expect(
      db.oneStatement(async (tx) => {
        tx.afterCommit(() => statements.push('hook'));
        await tx.query('INSERT 1');
      }),
    ).rejects.toThrow('INSERT 1 failed');
    expect(statements).toEqual(['INSERT 1', 'release']);
  });
});
