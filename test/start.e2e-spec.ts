import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import {
  PG_BASE,
  REDIS_URL,
  RUNTIME_ROLE,
  pgUrlAs,
  reportedPort,
  waitFor,
} from './support/ledgerline';

const ROOT = join(__dirname, '..');

interface Started {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exit: Promise<number | null>;
}

/** Runs a script of the clone in its own process group (so it and its children can be ended). */
function runScript(cwd: string, script: string, env: NodeJS.ProcessEnv): Started {
  const child = spawn('bash', [script], {
    cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout!.on('data', (b: Buffer) => stdout.push(b.toString()));
  child.stderr!.on('data', (b: Buffer) => stderr.push(b.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout, stderr, exit };
}

function killGroup(p: Started, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-p.child.pid!, signal);
  } catch {
    // already gone
  }
}

/** The port an app of the script reported it bound (its log line `msg`). */
async function portOf(p: Started, msg: string): Promise<number> {
  return waitFor(
    `${msg} with its port`,
    async () => {
      if (p.child.exitCode !== null) throw new Error(`exited: ${p.stderr.join('')}`);
      return reportedPort(p.stdout, msg);
    },
    120000,
    200,
  );
}

/** A directory of stand-in commands, put first on PATH. */
function fakeBin(dir: string, scripts: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, body] of Object.entries(scripts)) {
    writeFileSync(join(dir, name), `#!/usr/bin/env bash\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

describe('the README first command (scripts/start.sh) on a fresh clone', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'll-start-'));
  const clone = join(tmp, 'clone');
  const dbName = `ll_start_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const prefix = `s${process.pid}${Math.random().toString(36).slice(2, 6)}`;
  const running: Started[] = [];
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    execFileSync('git', ['clone', '-q', ROOT, clone]);
    // The clone's dependencies are this checkout's (npm ci would take minutes): the stamp says
    // they were installed from this very lockfile, so start.sh must not reinstall.
    symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(clone, 'node_modules'));
    mkdirSync(join(clone, '.ledgerline'));
    const lock = createHash('sha256')
      .update(readFileSync(join(clone, 'package-lock.json')))
      .digest('hex');
    writeFileSync(join(clone, '.ledgerline', 'deps.sha256'), `${lock}\n`);
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      MIGRATION_DATABASE_URL: `${PG_BASE}/${dbName}`,
      DATABASE_URL: pgUrlAs(RUNTIME_ROLE, dbName),
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      // Each app takes a free port itself and prints it: read from the script's output.
      PORT: '0',
      WORKER_PORT: '0',
      LOG_LEVEL: 'warn',
    };
  });

  afterAll(async () => {
    running.forEach((p) => killGroup(p));
    const admin = new Client({ connectionString: `${PG_BASE}/postgres` });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('builds, migrates an empty database, prints a key that publishes, and stops cleanly on SIGTERM', async () => {
    const start = runScript(clone, 'scripts/start.sh', env);
    running.push(start);
    const first = await waitFor(
      'the first key',
      async () => {
        if (start.child.exitCode !== null) throw new Error(`exited: ${start.stderr.join('')}`);
        const line = start.stdout
          .join('')
          .split('\n')
          .find((l) => l.startsWith('{"tenantId"'));
        return line ? (JSON.parse(line) as { tenantId: string; apiKey: string }) : undefined;
      },
      600000,
      500,
    );
    expect(start.stderr.join('')).toContain('[start] building');
    expect(start.stderr.join('')).not.toContain('[start] installing');
    const port = await portOf(start, 'api listening');
    const workerPort = await portOf(start, 'worker running');
    await waitFor(
      'api ready',
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok,
      60000,
    );
    await waitFor(
      'worker ready',
      async () => (await fetch(`http://127.0.0.1:${workerPort}/readyz`)).ok,
      60000,
    );
    const publish = () =>
      fetch(`http://127.0.0.1:${port}/v1/events`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${first.apiKey}`,
          'content-type': 'application/json',
          'idempotency-key': 'readme-1',
        },
        body: JSON.stringify({
          type: 'invoice.paid',
          actor: { type: 'user', id: 'u_1' },
          data: { amount: 1 },
        }),
      });
    const res = await publish();
    expect(res.status).toBe(202);
    const body = (await res.json()) as { id: string; status: string };
    expect(body.status).toBe('accepted');
    expect(((await (await publish()).json()) as { id: string }).id).toBe(body.id);

    killGroup(start, 'SIGTERM');
    expect(await start.exit).toBe(0);

    // A second start reuses the build and the tenant: no rebuild, no second key.
    const again = runScript(clone, 'scripts/start.sh', env);
    running.push(again);
    const portAgain = await portOf(again, 'api listening');
    await waitFor(
      'api ready again',
      async () => {
        if (again.child.exitCode !== null) throw new Error(`exited: ${again.stderr.join('')}`);
        return (await fetch(`http://127.0.0.1:${portAgain}/readyz`)).ok;
      },
      120000,
      300,
    );
    expect(again.stderr.join('')).not.toContain('[start] building');
    expect(again.stdout.join('')).not.toContain('apiKey');
    killGroup(again, 'SIGTERM');
    expect(await again.exit).toBe(0);
    // A fresh clone builds first (minutes on a loaded machine): the test may take as long as the
    // wait for the first key allows, not the suite's default 120 s.
  }, 600000);

  it('rebuilds after a source change and reinstalls after a lockfile change', async () => {
    const calls = join(tmp, 'npm-calls');
    // npm stands in: it records what it is asked and stops the script at the migration.
    const bin = fakeBin(join(tmp, 'bin-npm'), {
      npm: `echo "$*" >> ${calls}; case "$*" in "ci --no-audit --no-fund"|"run -s build") exit 0;; *) exit 3;; esac`,
    });
    const withFake = { ...env, PATH: `${bin}:${env.PATH}` };
    appendFileSync(join(clone, 'libs/platform/src/index.ts'), '// changed after the last build\n');
    const source = runScript(clone, 'scripts/start.sh', withFake);
    expect(await source.exit).toBe(3);
    expect(readFileSync(calls, 'utf8').split('\n')[0]).toBe('run -s build');
    rmSync(calls);
    appendFileSync(join(clone, 'package-lock.json'), '\n');
    const lock = runScript(clone, 'scripts/start.sh', withFake);
    expect(await lock.exit).toBe(3);
    expect(readFileSync(calls, 'utf8').split('\n').slice(0, 2)).toEqual([
      'ci --no-audit --no-fund',
      'run -s build',
    ]);
  });

  it('stops before anything else on Node older than 20.19 and says what to install', async () => {
    const bin = fakeBin(join(tmp, 'bin-node'), {
      node: `case "$1" in --version) echo v18.19.0;; *) exit 1;; esac`,
    });
    const old = runScript(clone, 'scripts/start.sh', { ...env, PATH: `${bin}:${env.PATH}` });
    expect(await old.exit).toBe(1);
    const said = old.stderr.join('');
    expect(said).toContain('Ledgerline needs Node.js >= 20.19 and npm; this is Node v18.19.0.');
    expect(said).toContain('setup_22.x');
    expect(said).toContain('docker compose -f docker/compose.yml up');
  });

  it('never changes PostgreSQL authentication unless LEDGERLINE_DEV_TRUST_LOCAL_PG=1 asks', async () => {
    const sudoLog = join(tmp, 'sudo-calls');
    const bin = fakeBin(join(tmp, 'bin-pg'), {
      pg_isready: 'exit 0',
      psql: `[ -f ${tmp}/trusted ] && exit 0; echo 'psql: error: FATAL:  password authentication failed for user "postgres"' >&2; exit 2`,
      sudo: `echo "$*" >> ${sudoLog}; case "$1" in pg_ctlcluster) touch ${tmp}/trusted;; esac; exit 0`,
      'redis-cli': 'echo PONG',
      // Not root (even where the tests run as root), so every privileged step goes through sudo.
      id: '[ "$1" = -u ] && echo 1000 || exec /usr/bin/id "$@"',
    });
    const pgEnv = {
      PATH: `${bin}:${env.PATH}`,
      MIGRATION_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/ledgerline',
      DATABASE_URL: 'postgres://ledgerline_app@127.0.0.1:5432/ledgerline',
    };
    const asked = runScript(clone, 'scripts/services.sh', pgEnv);
    expect(await asked.exit).toBe(1);
    const said = asked.stderr.join('');
    expect(said).toContain("asks user 'postgres' for a password; nothing was changed");
    expect(said).toContain('LEDGERLINE_DEV_TRUST_LOCAL_PG=1');
    expect(() => readFileSync(sudoLog)).toThrow(); // nothing run as root

    const flagged = runScript(clone, 'scripts/services.sh', {
      ...pgEnv,
      LEDGERLINE_DEV_TRUST_LOCAL_PG: '1',
    });
    expect(await flagged.exit).toBe(0);
    expect(flagged.stderr.join('')).toContain("setting 'host all all 127.0.0.1/32' to trust");
    const ran = readFileSync(sudoLog, 'utf8');
    expect(ran).toMatch(/^sed -i .*pg_hba\.conf$/m);
    expect(ran).toMatch(/^pg_ctlcluster .* reload$/m);
  });
});
