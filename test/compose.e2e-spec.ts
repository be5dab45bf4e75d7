import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerlineConfig, loadConfig } from '../libs/platform/src/config/ledgerline-config';

const ROOT = join(__dirname, '..');
const COMPOSE = readFileSync(join(ROOT, 'docker/compose.yml'), 'utf8');
const SETTINGS = new Set(Object.keys(new LedgerlineConfig()));
/** Variables compose itself uses (passwords, host ports): documented in the file's header. */
const COMPOSE_ONLY = [
  'POSTGRES_PASSWORD',
  'LEDGERLINE_APP_DB_PASSWORD',
  'API_PORT',
  'WORKER_METRICS_PORT',
];
/** Read by docker/entrypoint.sh, not by the application. */
const ENTRYPOINT_ONLY = ['LEDGERLINE_KEYS_FILE'];
const POSTGRES_IMAGE = ['POSTGRES_PASSWORD', 'POSTGRES_DB'];

/** A service's block (its lines up to the next top-level or service key). */
function block(name: string): string {
  const lines = COMPOSE.split('\n');
  const start = lines.findIndex((l) => l === `  ${name}:` || l.startsWith(`${name}:`));
  if (start < 0) throw new Error(`no ${name} in docker/compose.yml`);
  const indent = lines[start].length - lines[start].trimStart().length;
  const end = lines.findIndex(
    (l, i) =>
      i > start &&
      l.trim() &&
      !l.trim().startsWith('#') &&
      l.length - l.trimStart().length <= indent,
  );
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

/** `KEY: value` lines of a mapping that starts at `header`, with ${X:-default} resolved. */
function envMap(text: string, header: string): Record<string, string> {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.trim() === header);
  const indent = lines[at].length - lines[at].trimStart().length;
  const map: Record<string, string> = {};
  for (const line of lines.slice(at + 1)) {
    if (line.length - line.trimStart().length <= indent) break;
    const m = /^\s+([A-Z][A-Z0-9_]*):\s*"?(.*?)"?\s*$/.exec(line);
    if (m) map[m[1]] = m[2].replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1');
  }
  return map;
}

describe('docker/compose.yml', () => {
  it('passes only settings the config class knows, and uses only documented variables', () => {
    const passed = [...COMPOSE.matchAll(/^\s+([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]);
    const unknown = passed.filter(
      (k) => !SETTINGS.has(k) && !ENTRYPOINT_ONLY.includes(k) && !POSTGRES_IMAGE.includes(k),
    );
    expect(unknown).toEqual([]);
    const interpolated = [...COMPOSE.matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]);
    expect(interpolated.filter((k) => !SETTINGS.has(k) && !COMPOSE_ONLY.includes(k))).toEqual([]);
    const header = COMPOSE.split('\n')
      .filter((l) => l.startsWith('#'))
      .join('\n');
    for (const name of COMPOSE_ONLY) expect([name, header.includes(name)]).toEqual([name, true]);
  });

  it('gives the API, worker and migrate step an environment the config class accepts in production', () => {
    const keys = execFileSync(process.execPath, [
      join(ROOT, 'dist/apps/cli/apps/cli/src/main.js'),
      'keys',
      'generate',
    ])
      .toString()
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/^'|'$/g, '')]);
    const shared = envMap(COMPOSE, 'environment: &env');
    expect(shared).toMatchObject({ NODE_ENV: 'production', REDIS_URL: 'redis://redis:6379/0' });
    for (const service of ['migrate', 'worker']) {
      const own = envMap(block(service), 'environment:');
      const config = loadConfig({ ...shared, ...own, ...Object.fromEntries(keys) });
      expect(config.isProduction).toBe(true);
      expect(config.DATABASE_URL).toBe(
        'postgres://ledgerline_app:ledgerline_app@postgres:5432/ledgerline',
      );
      if (service === 'migrate') {
        expect(config.migrationDatabaseUrl).toBe(
          'postgres://postgres:ledgerline@postgres:5432/ledgerline',
        );
      } else {
        expect(config.WORKER_PORT).toBe(3001);
      }
    }
  });

  it('builds one image, and has healthchecks, restart policies, env_file, the first key and the worker port', () => {
    expect(COMPOSE.match(/^\s+build:/gm)).toHaveLength(1);
    expect(COMPOSE.match(/image: ledgerline:local/g)).toHaveLength(1);
    const anchor = block('x-ledgerline');
    expect(anchor).toMatch(/env_file:\n\s+- path: \.env\n\s+required: false/);
    expect(anchor).toContain('restart: unless-stopped');
    for (const s of ['api', 'worker', 'migrate']) expect(block(s)).toContain('<<: *ledgerline');
    for (const s of ['postgres', 'redis', 'api', 'worker']) {
      expect([s, /healthcheck:/.test(block(s))]).toEqual([s, true]);
    }
    for (const s of ['postgres', 'redis']) expect(block(s)).toContain('restart: unless-stopped');
    expect(block('migrate')).toContain('restart: "no"');
    expect(block('migrate')).toMatch(
      /migrate --create-runtime-role &&\s+node \S+ tenant bootstrap/,
    );
    for (const s of ['api', 'worker']) {
      expect(block(s)).toMatch(/migrate: \{ condition: service_completed_successfully \}/);
    }
    expect(block('worker')).toMatch(/WORKER_PORT: "3001"[\s\S]*:3001"\]/);
    expect(block('redis')).toContain('noeviction');
    expect(block('volumes')).toContain('keys: {}');
  });

  const compose = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  (compose.status === 0 ? it : it.skip)('is valid for `docker compose config`', () => {
    const res = spawnSync(
      'docker',
      ['compose', '-f', join(ROOT, 'docker/compose.yml'), 'config', '-q'],
      {
        encoding: 'utf8',
      },
    );
    expect([res.status, res.stderr]).toEqual([0, '']);
  });
});

describe('docker/entrypoint.sh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'll-keys-'));
  const file = join(dir, 'ledgerline.env');
  const run = (env: Record<string, string>) =>
    execFileSync(
      'sh',
      ['docker/entrypoint.sh', 'node', '-e', 'process.stdout.write(JSON.stringify(process.env))'],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH, ...env },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('generates the keys once on the volume, and every later container reads the same ones', () => {
    const first = JSON.parse(run({ LEDGERLINE_KEYS_FILE: file })) as Record<string, string>;
    const second = JSON.parse(run({ LEDGERLINE_KEYS_FILE: file })) as Record<string, string>;
    expect(second.LEDGERLINE_MASTER_KEY).toBe(first.LEDGERLINE_MASTER_KEY);
    expect(second.LEDGERLINE_SIGNING_KEY).toBe(first.LEDGERLINE_SIGNING_KEY);
    expect(Buffer.from(first.LEDGERLINE_MASTER_KEY, 'base64')).toHaveLength(32);
    const pem = first.LEDGERLINE_SIGNING_KEY.replace(/\\n/g, '\n');
    expect(createPrivateKey(pem).asymmetricKeyType).toBe('ed25519');
    expect(() => loadConfig({ NODE_ENV: 'production', ...first })).not.toThrow();
  });

  it('uses keys given in the environment and writes none', () => {
    const other = join(dir, 'unused.env');
    const env = JSON.parse(
      run({ LEDGERLINE_KEYS_FILE: other, LEDGERLINE_MASTER_KEY: 'given' }),
    ) as Record<string, string>;
    expect(env.LEDGERLINE_MASTER_KEY).toBe('given');
    expect(existsSync(other)).toBe(false);
  });
});
