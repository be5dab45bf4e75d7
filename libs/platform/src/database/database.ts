import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Pool, PoolClient, QueryResultRow, types } from 'pg';
import { LedgerlineConfig } from '../config/ledgerline-config';

// bigint columns (positions, seqs) stay below 2^53 for any realistic chain; read them as numbers once, here.
types.setTypeParser(types.builtins.INT8, (v) => Number(v));

export interface Sql {
  /** `name` makes it a prepared statement: hot paths pass one. */
  query<R extends QueryResultRow>(text: string, values?: unknown[], name?: string): Promise<R[]>;
}

class ClientSql implements Sql {
  constructor(readonly client: PoolClient) {}
  async query<R extends QueryResultRow>(text: string, values?: unknown[], name?: string) {
    const res = await this.client.query<R>({ text, values, name });
    return res.rows;
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

  async transaction<T>(work: (tx: ClientSql) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(new ClientSql(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    // Clients still checked out (a stuck query) must not hold the shutdown past a few seconds.
    await Promise.race([
      this.pool.end().catch(() => undefined),
      new Promise((r) => setTimeout(r, 5000)),
    ]);
  }
}

export type Tx = ClientSql;
