import { ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis, { Cluster } from 'ioredis';
import { Client } from 'pg';

const ROOT = join(__dirname, '..', '..');
const main = (app: string) => join(ROOT, `dist/apps/${app}/apps/${app}/src/main.js`);
const run = promisify(execFile);

export const PG_BASE = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/5';
/**
 * The role the API, worker and CLI run as in every suite: it gets only what the migrate command
 * grants (SELECT and INSERT on append-only tables), so every suite exercises the real privileges.
 * Roles are cluster-wide: it is created once (by whichever suite migrates first) and never
 * dropped; its grants go with each suite's database.
 */
export const RUNTIME_ROLE = 'ledgerline_test_app';

/**
 * REDIS_CLUSTER_NODES for suites that run on a Redis Cluster: TEST_REDIS_CLUSTER_NODES, or the
 * local cluster scripts/redis-cluster.sh starts (or finds running).
 */
export function redisClusterNodes(): string {
  if (process.env.TEST_REDIS_CLUSTER_NODES) return process.env.TEST_REDIS_CLUSTER_NODES;
  const script = join(ROOT, 'scripts', 'redis-cluster.sh');
  return execFileSync('bash', [script], { encoding: 'utf8' }).trim();
}

/** PG_BASE with another user, e.g. the runtime role. */
export function pgUrlAs(role: string, database: string): string {
  const url = new URL(`${PG_BASE}/${database}`);
  url.username = role;
  url.password = '';
  return url.toString();
}

/**
 * A port that was free a moment ago. Racy (another process may take it before the caller's child
 * binds it): the apps and receivers listen on port 0 and report what they bound instead. Left
 * only for test/approvals-example.e2e-spec.ts, whose example executor (examples/, not test/)
 * cannot listen on 0 and report its port yet.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 30000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** Deletes every key matching ARGV[1]; returns how many. */
const FORGET_KEYS = `
local n = 0
for _, key in ipairs(redis.call('KEYS', ARGV[1])) do
  redis.call('DEL', key)
  n = n + 1
end
return n`;

export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export interface Tenant {
  tenantId: string;
  apiKey: string;
}

export interface Proc {
  child: ChildProcess;
  output: string[];
}

/**
 * The port in the first JSON log line whose msg is `msg` (the apps print the port they bound,
 * so a harness can start them on port 0 and never hand out a port it released a moment before).
 * undefined until that line has arrived; null when it says the process listens on none.
 */
export function reportedPort(output: string[], msg: string): number | null | undefined {
  for (const line of output.join('').split('\n')) {
    if (!line.includes(`"msg":"${msg}"`)) continue;
    const { port } = JSON.parse(line) as { port: number | null };
    return port;
  }
  return undefined;
}

/**
 * One isolated Ledgerline for a test suite: its own database and queue prefix, real API and
 * worker processes built from dist/, real PostgreSQL and Redis.
 */
export class Ledgerline {
  readonly dbName = `ll_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  readonly prefix = `t${process.pid}${Math.random().toString(36).slice(2, 6)}`;
  readonly dataDir = mkdtempSync(join(tmpdir(), 'ledgerline-'));
  /** The owner's (and the test's DBA) URL: migrations and ll.sql() use it. */
  readonly dbUrl = `${PG_BASE}/${this.dbName}`;
  /** What the apps use: the runtime role, unless the suite opted out with runtimeRole: null. */
  readonly appDbUrl: string;
  readonly apis: (Proc & { port: number })[] = [];
  readonly workers: Proc[] = [];
  private pg?: Client;
  private sqlTail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly extraEnv: Record<string, string> = {},
    readonly runtimeRole: string | null = RUNTIME_ROLE,
  ) {
    this.appDbUrl = runtimeRole ? pgUrlAs(runtimeRole, this.dbName) : this.dbUrl;
  }

  get env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      DATABASE_URL: this.appDbUrl,
      MIGRATION_DATABASE_URL: this.dbUrl,
      REDIS_URL,
      QUEUE_PREFIX: this.prefix,
      LEDGERLINE_DATA_DIR: this.dataDir,
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_KEY: '100000',
      RATE_LIMIT_PER_IP: '100000',
      ...this.extraEnv,
    };
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.apis[0].port}`;
  }

  static async start(
    opts: {
      apis?: number;
      workers?: number;
      env?: Record<string, string>;
      /** null: run the apps as the owner (a single-user setup) */
      runtimeRole?: string | null;
    } = {},
  ) {
    const ll = new Ledgerline(opts.env, opts.runtimeRole);
    try {
      await ll.cli('migrate', '--create-runtime-role');
      // The processes boot side by side (each boot is mostly one core's work): apis[i] and
      // workers[i] are still in the order asked for, as each is pushed before its boot awaits.
      // Every boot is waited for, also after one failed, so stop() finds none half-started.
      const boots = [
        ...Array.from({ length: opts.apis ?? 1 }, () => ll.startApi()),
        ...Array.from({ length: opts.workers ?? 1 }, () => ll.startWorker()),
      ];
      const failed = (await Promise.allSettled(boots)).find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    } catch (err) {
      await ll.stop(); // the suite never gets `ll` to stop: no process or database is left behind
      throw err;
    }
    return ll;
  }

  async cli(...args: string[]): Promise<string> {
    return this.cliWith({}, ...args);
  }

  /** Runs the CLI with `env` on top of the suite's environment (e.g. another master key). */
  async cliWith(env: Record<string, string>, ...args: string[]): Promise<string> {
    const { stdout } = await run(process.execPath, [main('cli'), ...args], {
      env: { ...this.env, ...env },
      cwd: ROOT,
    });
    return stdout;
  }

  async createTenant(name = 'acme'): Promise<Tenant> {
    return JSON.parse(await this.cli('tenant', 'create', '--name', name)) as Tenant;
  }

  private spawn(app: string, env: NodeJS.ProcessEnv): Proc {
    const child = spawn(process.execPath, [main(app)], {
      env,
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    const keep = (b: Buffer) => {
      output.push(b.toString());
      if (output.length > 200) output.shift();
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    return { child, output };
  }

  /** Starts an API on a port of its own choosing (PORT=0) and returns the port it bound. */
  async startApi(env: Record<string, string> = {}): Promise<number> {
    const proc = { ...this.spawn('api', { ...this.env, ...env, PORT: '0' }), port: 0 };
    this.apis.push(proc);
    const port = await waitFor('api listening', async () => {
      if (proc.child.exitCode !== null) throw new Error(`api exited: ${proc.output.join('')}`);
      return reportedPort(proc.output, 'api listening');
    });
    proc.port = port;
    await waitFor(`api on ${port}`, async () => {
      if (proc.child.exitCode !== null) throw new Error(`api exited: ${proc.output.join('')}`);
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      return res.status === 200;
    });
    return port;
  }

  /**
   * Starts a worker; with `WORKER_PORT: '0'` it listens on a port of its own choosing, and
   * `port` is the one it bound (null: no listener).
   */
  async startWorker(env: Record<string, string> = {}): Promise<Proc & { port: number | null }> {
    const proc = this.spawn('worker', { ...this.env, LOG_LEVEL: 'info', ...env });
    this.workers.push(proc);
    const { port } = await waitFor('worker start', async () => {
      if (proc.child.exitCode !== null) throw new Error(`worker exited: ${proc.output.join('')}`);
      const reported = reportedPort(proc.output, 'worker running');
      return reported === undefined ? undefined : { port: reported };
    });
    return { ...proc, port };
  }

  async stopProc(proc: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) return proc.child.exitCode;
    const exited = new Promise<number | null>((resolve) =>
      proc.child.once('exit', (code) => resolve(code)),
    );
    proc.child.kill(signal);
    return exited;
  }

  async request(
    method: string,
    path: string,
    opts: {
      key?: string;
      body?: unknown;
      raw?: string;
      headers?: Record<string, string>;
      base?: string;
    } = {},
  ): Promise<HttpAnswer> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.key) headers.authorization = `Bearer ${opts.key}`;
    let body: string | undefined = opts.raw;
    if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (
      body !== undefined &&
      !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')
    ) {
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${opts.base ?? this.baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: the caller reads .text
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  }

  /**
   * One connection, so a test's SET or BEGIN holds for its next statements; statements run one
   * after another (pg deprecates overlapping queries on a client, as in a Promise.all of seeds).
   */
  sql<R = any>(text: string, params: unknown[] = []): Promise<R[]> {
    const run = this.sqlTail.then(async () => {
      if (!this.pg) {
        this.pg = new Client({ connectionString: this.dbUrl });
        await this.pg.connect();
      }
      return (await this.pg.query(text, params)).rows as R[];
    });
    this.sqlTail = run.catch(() => undefined);
    return run;
  }

  /** The suite's Redis: a Cluster client when the suite runs with REDIS_CLUSTER_NODES. */
  redis(): Redis | Cluster {
    const nodes = this.extraEnv.REDIS_CLUSTER_NODES;
    if (!nodes) return new Redis(this.env.REDIS_URL ?? REDIS_URL, { maxRetriesPerRequest: 1 });
    return new Cluster(
      nodes.split(',').map((n) => ({ host: n.split(':')[0], port: +n.split(':')[1] })),
    );
  }

  private async forgetClusterKeys(): Promise<void> {
    const redis = this.redis() as Cluster;
    if (redis.status !== 'ready') await new Promise((ready) => redis.once('ready', ready));
    for (const store of redis.nodes('master')) {
      const keys = await store.keys(`{${this.prefix}}*`);
      for (let i = 0; i < keys.length; i += 500) await store.del(...keys.slice(i, i + 500));
    }
    redis.disconnect();
  }

  logs(): string {
    return [...this.apis, ...this.workers].map((p) => p.output.join('')).join('\n');
  }

  /**
   * Redis loses every key of this Ledgerline (all of them are under its queue prefix) at once:
   * what a FLUSHDB does to it, without touching other suites' keys in the same database. One Lua
   * script, so it is atomic: no process sees half a queue gone. Returns how many keys went.
   * Standalone Redis only (a Cluster's keys live on several masters).
   */
  async forgetRedisKeys(): Promise<number> {
    const redis = this.redis();
    if (redis instanceof Cluster) throw new Error('forgetRedisKeys: not on a Redis Cluster');
    try {
      return (await redis.eval(FORGET_KEYS, 0, `{${this.prefix}}*`)) as number;
    } finally {
      redis.disconnect();
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.apis, ...this.workers].map((p) => this.stopProc(p, 'SIGKILL')));
    await this.pg?.end().catch(() => undefined);
    if (this.extraEnv.REDIS_CLUSTER_NODES) await this.forgetClusterKeys();
    else await this.forgetRedisKeys();
    const admin = new Client({ connectionString: `${PG_BASE}/postgres` });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${this.dbName}" WITH (FORCE)`);
    await admin.end();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export function event(overrides: Record<string, unknown> = {}) {
  return {
    type: 'invoice.paid',
    subject: 'invoice/inv_123',
    actor: { type: 'user', id: 'u_42' },
    data: { amount: 1200, currency: 'EUR' },
    ...overrides,
  };
}
