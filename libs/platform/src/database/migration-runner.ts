import { Client } from 'pg';
import { DataSource, MigrationInterface } from 'typeorm';

type MigrationClass = new () => MigrationInterface;

/** Creates the database named in the URL when it does not exist yet (fresh machines, test runs). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!found.rowCount) {
      await client
        .query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`)
        .catch((e: { code?: string }) => {
          if (e.code !== '42P04') throw e; // created meanwhile by another process
        });
    }
  } finally {
    await client.end();
  }
}

/** Applies pending TypeORM migrations (listed explicitly; synchronize is never used). */
export async function runMigrations(url: string, migrations: MigrationClass[]): Promise<string[]> {
  await ensureDatabase(url);
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    migrations,
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
  });
  await dataSource.initialize();
  try {
    // One migrator at a time when several processes start together.
    await dataSource.query('SELECT pg_advisory_lock(738201)');
    const applied = await dataSource.runMigrations();
    return applied.map((m) => m.name);
  } finally {
    await dataSource.query('SELECT pg_advisory_unlock(738201)').catch(() => undefined);
    await dataSource.destroy();
  }
}
