// The declaring half of the CLI (program.ts, commands/, cli-support.ts) must not load Nest, a lib
// barrel or a database driver: --help, usage errors and `keys generate` would pay for them (about
// 1.5 s a process). Each of those modules throws here when loaded; actions/ may load them.
const HEAVY = [
  '@nestjs/core',
  '@nestjs/common',
  'typeorm',
  'pg',
  'ioredis',
  'bullmq',
  'cli-progress',
  '@app/platform',
  '@app/identity',
  '@app/audit',
  '@app/webhooks',
  '@app/people',
  '@app/schema',
];
for (const name of HEAVY) {
  jest.doMock(name, () => {
    throw new Error(`${name} loaded`);
  });
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { runCli } = require('./program') as typeof import('./program');

describe('the CLI without its actions', () => {
  let out: string;
  let err: string;

  beforeEach(() => {
    out = '';
    err = '';
    jest.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
    jest.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    process.exitCode = undefined;
  });

  it('answers --help and --version', async () => {
    expect(await runCli(['--help'])).toBe(0);
    expect(out).toContain('Usage: ledgerline');
    out = '';
    expect(await runCli(['user', 'create', '--help'])).toBe(0);
    expect(out).toContain('owner | admin | approver | member | viewer');
    out = '';
    expect(await runCli(['--version'])).toBe(0);
    expect(out).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('parses and refuses arguments', async () => {
    expect(await runCli(['audit', 'verify', '--tenant', 'nope'])).toBe(2);
    expect(err).toContain('must be a UUID');
    expect(await runCli(['key', 'create', '--tenant', UUID, '--scopes', 'admin,root'])).toBe(2);
    expect(err).toContain('unknown scope root');
    expect(
      await runCli(['user', 'create', '--tenant', UUID, '--email', 'a@b', '--role', 'x']),
    ).toBe(2);
    expect(err).toContain('one of owner, admin');
    expect(await runCli(['audit', 'export', '--tenant', UUID, '--chain', 'bogus'])).toBe(2);
    expect(err).toContain('main, ai');
  });

  it('runs a command that needs no database', async () => {
    expect(await runCli(['keys', 'generate'])).toBe(0);
    expect(out).toMatch(
      /^LEDGERLINE_MASTER_KEY=.+\nLEDGERLINE_SIGNING_KEY='-----BEGIN PRIVATE KEY/,
    );
  });
});

const UUID = '01a22b97-d348-71ab-99c4-962b0c1a0da8';
