import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Pool, PoolClient, QueryResultRow, types } from 'pg';
import { LedgerlineConfig } from '../config/ledgerline-config';

// bigint columns (positions, seqs) stay below 2^53 for any realistic chain; read them as numbers once, here.
types.setTypeParser(types.builtins.INT8, (v) => Number(v));

export interface Sql {
  /** `name` makes it a prepared statement: hot paths pass one. */
  query<R extends QueryResultRow>(text: string, values?: unknown[], name?: string): Promise<R[]>;
}

/**
 * One unit of work: its statements, and what must happen once it has committed (never if it
 * rolls back). A writer that records an event schedules the relay's wake-up here, so no caller
 * can forget it or send it before the rows are visible.
 */
export class Tx implements Sql {
  private readonly committed: (() => void)[] = [];

  constructor(readonly client: PoolClient) {}

  async query<R extends QueryResultRow>(text: string, values?: unknown[], name?: string) {
    const res = await this.client.query<R>({ text, values, name });
    return res.rows;
  }

  /** Runs `hook` after COMMIT. Hooks are notifications: they cannot fail the committed work. */
  afterCommit(hook: () => void): void {
    this.committed.push(hook);
  }

  /** Called by Database.transaction once, after COMMIT. */
  runAfterCommit(): void {
    for (const hook of this.committed.splice(0)) {
      try {
        hook();
      } catch {
        // the work is committed; a failed notification is covered by the relay's polling
      }
    }
  }
}

/**
 * A unit of work of one statement, run as its own transaction: no BEGIN and COMMIT round trips,
 * and the row locks it takes are released inside PostgreSQL when it ends, not a round trip later.
 */
class OneStatementTx extends Tx {
  private used = false;

  override query<R extends QueryResultRow>(text: string, values?: unknown[], name?: string) {
    if (this.used) throw new Error('a one-statement unit of work ran a second statement');
    this.used = true;
    return super.query<R>(text, values, name);
  }
}

/** The PostgreSQL pool: every repository runs its hand-written SQL through it. */
@Injectable()
export class Database implements Sql, OnApplicationShutdown {
  readonly pool: Pool;

  constructor(config: LedgerlineConfig) {
    this.pool = new Pool({
      connectionString: config.DATABASE_URL,
      max: config.DATABASE_POOL_SIZE,
      application_name: 'ledgerline',
      // A request never waits forever for a connection: it gets a 503 instead.
      connectionTimeoutMillis: 10000,
    });
    this.pool.on('error', () => undefined); // idle client errors surface on next use
  }

  async query<R extends QueryResultRow>(text: string, values?: unknown[], name?: string) {
    const res = await this.pool.query<R>({ text, values, name });
    return res.rows;
  }

  async transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const tx = new Tx(client);
      const result = await work(tx);
      await client.query('COMMIT');
      tx.runAfterCommit();
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** `transaction` for work that runs at most one statement (it throws on a second). */
  async oneStatement<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      const tx = new OneStatementTx(client);
      const result = await work(tx);
      tx.runAfterCommit();
      return result;
    } finally {
      client.release();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    // Clients still checked out (a stuck query) must not hold the shutdown past a few seconds;
    // the timer goes once the pool has ended, or it alone keeps the process alive for 5 s.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.pool.end().catch(() => undefined),
      new Promise((r) => (timer = setTimeout(r, 5000))),
    ]);
    clearTimeout(timer);
  }
}
