import { execFile } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { buildProgram } from '../apps/cli/src/program';
import { Ledgerline, Tenant, event, waitFor } from './support/ledgerline';

const ROOT = join(__dirname, '..');
const CLI = join(ROOT, 'dist/apps/cli/apps/cli/src/main.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Every command path the CLI defines, e.g. ['audit', 'verify']. */
function commandPaths(cmd: Command, prefix: string[] = []): string[][] {
  return cmd.commands
    .filter((c) => c.name() !== 'help')
    .flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])]);
}

describe('the operator CLI', () => {
  let ll: Ledgerline;
  let acme: Tenant;

  const cli = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
    new Promise((resolve) =>
      execFile(
        process.execPath,
        [CLI, ...args],
        { env: { ...ll.env, ...env }, cwd: ROOT },
        (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr }),
      ),
    );

  beforeAll(async () => {
    ll = await Ledgerline.start({ workers: 1 });
    acme = await ll.createTenant('acme');
  });
  afterAll(() => ll.stop());

  it('answers --help on every command with exit 0, and --version with the package version', async () => {
    const paths = commandPaths(buildProgram());
    expect(paths).toEqual(
      expect.arrayContaining([
        ['migrate'],
        ['tenant', 'create'],
        ['tenant', 'bootstrap'],
        ['tenant', 'list'],
        ['key', 'create'],
        ['keys', 'generate'],
        ['audit', 'verify'],
        ['audit', 'export'],
        ['secrets', 'rekey'],
      ]),
    );
    const runs = await Promise.all([[], ...paths].map((p) => cli([...p, '--help'])));
    for (const [i, run] of runs.entries()) {
      expect([i, run.code]).toEqual([i, 0]);
      expect(run.stdout).toContain('Usage: ledgerline');
    }
    const version = await cli(['--version']);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it('refuses unknown commands and options, and malformed values, with exit 2 and a message', async () => {
    const cases: [string[], string][] = [
      [['bogus'], "unknown command 'bogus'"],
      [['tenant', 'create', '--name', 'x', '--colour', 'red'], "unknown option '--colour'"],
      [['tenant', 'create'], "required option '--name <name>' not specified"],
      [['audit', 'verify', '--tenant', 'nope'], 'must be a UUID'],
      [['audit', 'verify', '--tenant', acme.tenantId, '--chain', 'bogus'], 'main, ai'],
      [['audit', 'export', '--tenant', acme.tenantId, '--from-seq', '0'], 'positive integer'],
      [
        ['key', 'create', '--tenant', acme.tenantId, '--scopes', 'admin,root'],
        'unknown scope root',
      ],
      [['tenant'], 'Usage: ledgerline tenant'],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli(args)));
    runs.forEach((run, i) => {
      expect([cases[i][0], run.code]).toEqual([cases[i][0], 2]);
      expect(run.stderr).toContain(cases[i][1]);
      expect(run.stdout).toBe('');
    });
  });

  it('lists tenants as JSON and creates a scoped key for one without SQL', async () => {
    const list = await cli(['tenant', 'list']);
    expect(list.code).toBe(0);
    const tenants = JSON.parse(list.stdout) as { tenantId: string; name: string }[];
    expect(tenants).toEqual([
      { tenantId: acme.tenantId, name: 'acme', createdAt: expect.stringMatching(/Z$/) },
    ]);

    const made = await cli([
      'key',
      'create',
      '--tenant',
      acme.tenantId,
      '--scopes',
      'events:write, events:read',
      '--name',
      'recovered',
    ]);
    expect(made.code).toBe(0);
    const key = JSON.parse(made.stdout) as { id: string; key: string; scopes: string[] };
    expect(key).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      key: expect.stringMatching(/^ll_/),
      scopes: ['events:write', 'events:read'],
    });
    const published = await ll.request('POST', '/v1/events', { key: key.key, body: event() });
    expect(published.status).toBe(202);
    const forbidden = await ll.request('GET', '/v1/api-keys', { key: key.key });
    expect([403, 404, 405]).toContain(forbidden.status);
    const [row] = await ll.sql('SELECT name, scopes FROM api_keys WHERE id = $1', [key.id]);
    expect(row).toEqual({ name: 'recovered', scopes: ['events:write', 'events:read'] });

    const stranger = await cli([
      'key',
      'create',
      '--tenant',
      '01950000-0000-7000-8000-000000000000',
      '--scopes',
      'admin',
    ]);
    expect(stranger.code).toBe(2);
    expect(stranger.stderr).toContain('unknown tenant');
  });

  it('audit verify: 0 intact, 1 broken, 2 for an unknown tenant or a database it cannot reach', async () => {
    const t = await ll.createTenant('audited');
    await ll.request('POST', '/v1/events', { key: t.apiKey, body: event() });
    // tenant.created, api_key.created and the event
    await waitFor('chained', async () => {
      const [r] = await ll.sql(
        "SELECT count(*)::int AS n FROM audit_entries WHERE tenant_id = $1 AND chain = 'main'",
        [t.tenantId],
      );
      return r.n === 3;
    });
    const intact = await cli(['audit', 'verify', '--tenant', t.tenantId]);
    expect(intact.code).toBe(0);
    expect(JSON.parse(intact.stdout)).toMatchObject({ ok: true, chain: 'main', entries: 3 });
    expect(intact.stderr).toMatch(/verifying main: 3\/3/); // plain progress lines when piped

    const unknown = await cli([
      'audit',
      'verify',
      '--tenant',
      '01950000-0000-7000-8000-000000000000',
    ]);
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toContain('unknown tenant');

    const down = await cli(['audit', 'verify', '--tenant', t.tenantId], {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere',
    });
    expect(down).toMatchObject({ code: 2, stdout: '' });
    expect(down.stderr).toContain('could not verify the chain');

    await ll.sql('SET session_replication_role = replica');
    try {
      await ll.sql(
        `UPDATE audit_entries SET data = '{"amount": 1}' WHERE tenant_id = $1 AND seq = 3`,
        [t.tenantId],
      );
    } finally {
      await ll.sql('SET session_replication_role = DEFAULT');
    }
    const broken = await cli(['audit', 'verify', '--tenant', t.tenantId]);
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.stdout)).toMatchObject({
      ok: false,
      firstBreak: { seq: 3, reason: 'hash_mismatch' },
    });
  });

  it('generates keys production accepts as .env lines, without a database', async () => {
    const run = await cli(['keys', 'generate'], { DATABASE_URL: 'postgres://x@127.0.0.1:1/x' });
    expect(run.code).toBe(0);
    const env = Object.fromEntries(
      run.stdout
        .trim()
        .split('\n')
        .map((l) => [
          l.slice(0, l.indexOf('=')),
          l.slice(l.indexOf('=') + 1).replace(/^'|'$/g, ''),
        ]),
    );
    expect(Object.keys(env)).toEqual(['LEDGERLINE_MASTER_KEY', 'LEDGERLINE_SIGNING_KEY']);
    expect(Buffer.from(env.LEDGERLINE_MASTER_KEY, 'base64')).toHaveLength(32);
    const pem = env.LEDGERLINE_SIGNING_KEY.replace(/\\n/g, '\n');
    expect(createPrivateKey(pem).asymmetricKeyType).toBe('ed25519');
    const again = await cli(['keys', 'generate']);
    expect(again.stdout).not.toBe(run.stdout);
  });
});
