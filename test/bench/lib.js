// Shared pieces for `npm run bench`: a throwaway Ledgerline (own database and queue prefix,
// real API/worker processes from dist/), raw baselines measured in the same run, JSON output.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const net = require('node:net');
const { Client, Pool } = require('pg');
const Redis = require('ioredis');
const { Agent, request } = require('undici');

const ROOT = join(__dirname, '..', '..');
const PG_BASE = process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432';
const REDIS_URL = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379/6';
const main = (app) => join(ROOT, `dist/apps/${app}/apps/${app}/src/main.js`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function report(bench, value, unit, baseline, extra = {}) {
  const ratio = baseline ? Math.round((value / baseline) * 1000) / 1000 : null;
  process.stdout.write(
    `${JSON.stringify({ bench, value: Math.round(value * 10) / 10, unit, baseline: baseline === null ? null : Math.round(baseline * 10) / 10, ratio, ...extra })}\n`,
  );
}

function freePort() {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(what, probe, timeoutMs = 120000, every = 50) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v) return v;
    } catch {
      // not yet
    }
    await sleep(every);
  }
  throw new Error(`timed out: ${what}`);
}

/** A finished run's queues (a slow endpoint's backlog can be large) go with it. */
async function dropQueueKeys(prefix) {
  const redis = new Redis(REDIS_URL);
  const stream = redis.scanStream({ match: `{${prefix}}*`, count: 1000 });
  for await (const keys of stream) if (keys.length) await redis.unlink(...keys);
  await redis.quit();
}

class Stack {
  constructor(env = {}) {
    const id = `${process.pid}_${Math.random().toString(36).slice(2, 7)}`;
    this.id = id;
    this.dbName = `ll_bench_${id}`;
    this.dbUrl = `${PG_BASE}/${this.dbName}`;
    this.env = {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      DATABASE_URL: this.dbUrl,
      REDIS_URL,
      QUEUE_PREFIX: `b${id}`,
      LEDGERLINE_DATA_DIR: mkdtempSync(join(tmpdir(), 'llbench-')),
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_KEY: '10000000',
      RATE_LIMIT_PER_IP: '10000000',
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32',
      ...env,
    };
    this.procs = [];
  }

  cli(...args) {
    return execFileSync(process.execPath, [main('cli'), ...args], {
      env: this.env,
      cwd: ROOT,
    }).toString();
  }

  async start({ api = true, worker = true } = {}) {
    this.cli('migrate');
    this.tenant = JSON.parse(this.cli('tenant', 'create', '--name', 'bench'));
    if (api) await this.startApi();
    if (worker) await this.startWorker();
    this.pool = new Pool({ connectionString: this.dbUrl, max: 4 });
    // The database is dropped WITH (FORCE) at the end: an idle client cut then is no failure.
    this.pool.on('error', () => undefined);
    return this;
  }

  async startApi() {
    this.port = await freePort();
    const dir = process.env.BENCH_API_PROF;
    const profile = dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
    const child = spawn(process.execPath, [...profile, main('api')], {
      env: { ...this.env, PORT: String(this.port) },
      stdio: 'inherit',
    });
    this.procs.push(child);
    this.baseUrl = `http://127.0.0.1:${this.port}`;
    await waitFor('api', async () => (await fetch(`${this.baseUrl}/readyz`)).status === 200);
  }

  async startWorker() {
    const dir = process.env.BENCH_WORKER_PROF;
    const profile = dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
    const child = spawn(process.execPath, [...profile, main('worker')], {
      env: this.env,
      stdio: 'inherit',
    });
    this.procs.push(child);
    await sleep(1500);
    return child;
  }

  /** SIGTERM, then wait for the worker to drain and exit. */
  async stopWorker(child) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    this.procs = this.procs.filter((p) => p !== child);
  }

  query(text, params) {
    return this.pool.query(text, params).then((r) => r.rows);
  }

  async stop() {
    // Profiled runs (BENCH_API_PROF, BENCH_WORKER_PROF) end with SIGTERM so the worker writes its profile.
    const profiled = process.env.BENCH_API_PROF || process.env.BENCH_WORKER_PROF;
    const signal = profiled ? 'SIGTERM' : 'SIGKILL';
    await Promise.all(
      this.procs.map((p) => {
        const exited = new Promise((resolve) => p.once('exit', resolve));
        p.kill(signal);
        return Promise.race([exited, sleep(15000)]);
      }),
    );
    await this.pool?.end();
    const admin = new Client({ connectionString: `${PG_BASE}/postgres` });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${this.dbName}" WITH (FORCE)`);
    await admin.end();
    await dropQueueKeys(`b${this.id}`);
  }
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function sampleEvent(i) {
  return {
    type: 'invoice.paid',
    subject: `invoice/inv_${i}`,
    actor: { type: 'service', id: 'billing' },
    data: {
      amount: 1200 + (i % 100),
      currency: 'EUR',
      customer: `c_${i % 977}`,
      note: 'paid by card',
    },
  };
}

module.exports = {
  ROOT,
  PG_BASE,
  REDIS_URL,
  Stack,
  report,
  sleep,
  waitFor,
  freePort,
  percentile,
  sampleEvent,
};

/** Publishes `total` events through the batch endpoint, `concurrency` requests at a time. */
async function publishBatches(stack, total, size = 500, concurrency = 4, make = sampleEvent) {
  let sent = 0;
  const loop = async () => {
    while (sent < total) {
      const n = Math.min(size, total - sent);
      const from = sent;
      sent += n;
      const res = await fetch(`${stack.baseUrl}/v1/events/batch`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${stack.tenant.apiKey}`,
        },
        body: JSON.stringify({ events: Array.from({ length: n }, (_, i) => make(from + i)) }),
      });
      if (res.status !== 202) throw new Error(`batch answered ${res.status}: ${await res.text()}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
}

/**
 * Publishes single events at a steady rate; resolves with their ids. undici's request on a keep-alive pool, not fetch:
 * fetch cost the load generator a third of a core at 200 requests/s, CPU the stack under test
 * then did not have.
 */
async function publishPaced(stack, perSecond, seconds, make = sampleEvent) {
  const agent = new Agent({ connections: 32, keepAliveTimeout: 30000 });
  const ids = [];
  const pending = [];
  const started = Date.now();
  const total = perSecond * seconds;
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / perSecond;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    pending.push(
      request(`${stack.baseUrl}/v1/events`, {
        method: 'POST',
        dispatcher: agent,
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${stack.tenant.apiKey}`,
        },
        body: JSON.stringify(make(i)),
      })
        .then((r) => r.body.json())
        .then((b) => ids.push(b.id)),
    );
  }
  await Promise.all(pending);
  await agent.close();
  return ids;
}

/** Peak resident memory of a process (VmHWM), in MB. */
function peakRssMb(pid) {
  const status = require('node:fs').readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : null;
}

Object.assign(module.exports, { publishBatches, publishPaced, peakRssMb });
