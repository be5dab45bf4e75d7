import { DynamicModule, INestApplicationContext, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import { Database, PlatformModule, runMigrations } from '@app/platform';
import { ALL_MIGRATIONS } from '@app/schema';

const PG_BASE = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/5';

/**
 * The medium tier: real services from the capability modules, in a Nest testing module, on a
 * real PostgreSQL database of their own (migrated, dropped afterwards). No HTTP, no worker.
 */
export class MediumApp {
  private constructor(
    readonly app: INestApplicationContext,
    readonly dbUrl: string,
    private readonly dataDir: string,
    private readonly queuePrefix: string,
  ) {}

  /** `env`: settings on top of the tier's own (e.g. WEBHOOK_ALLOWED_CIDRS). */
  static async start(
    imports: (Type | DynamicModule)[],
    env: Record<string, string> = {},
  ): Promise<MediumApp> {
    const dbName = `ll_medium_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const dbUrl = `${PG_BASE}/${dbName}`;
    const dataDir = mkdtempSync(join(tmpdir(), 'ledgerline-medium-'));
    const queuePrefix = `m${process.pid}${Math.random().toString(36).slice(2, 6)}`;
    Object.assign(process.env, {
      NODE_ENV: 'test',
      DATABASE_URL: dbUrl,
      REDIS_URL,
      QUEUE_PREFIX: queuePrefix,
      LEDGERLINE_DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      ...env,
    });
    await runMigrations(dbUrl, ALL_MIGRATIONS);
    const moduleRef = await Test.createTestingModule({
      imports: [PlatformModule, ...imports],
    }).compile();
    moduleRef.useLogger(['error']);
    await moduleRef.init();
    return new MediumApp(moduleRef, dbUrl, dataDir, queuePrefix);
  }

  get<T>(type: Type<T>): T {
    return this.app.get(type, { strict: false });
  }

  get db(): Database {
    return this.get(Database);
  }

  async stop(): Promise<void> {
    await this.app.close();
    rmSync(this.dataDir, { recursive: true, force: true });
    // Jobs a service queued (a retry, a recover) stay behind in Redis otherwise.
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    const keys = await redis.keys(`{${this.queuePrefix}}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    const admin = new Client({ connectionString: `${PG_BASE}/postgres` });
    await admin.connect();
    const name = new URL(this.dbUrl).pathname.slice(1);
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}
