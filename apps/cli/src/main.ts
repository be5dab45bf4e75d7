import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { NestFactory } from '@nestjs/core';
import { INestApplicationContext } from '@nestjs/common';
import {
  ensureRuntimeRole,
  grantRuntimeRole,
  loadConfig,
  runMigrations,
  UUID_PATTERN,
} from '@app/platform';
import { TenantService } from '@app/identity';
import { AuditChainVerifier, AuditEntryRepository, ChainName, CHAINS, fromRow } from '@app/audit';
import { SecretRekeyer } from '@app/webhooks';
import { Progress } from './progress';
import { ALL_MIGRATIONS } from '@app/schema';
import { CliModule } from './cli.module';

const USAGE = `usage: npm run cli -- <command>
  migrate [--create-runtime-role]        apply database migrations as MIGRATION_DATABASE_URL
                                         (default DATABASE_URL), then grant DATABASE_URL's role
                                         what the application needs (append-only tables: SELECT
                                         and INSERT only); --create-runtime-role creates that
                                         role (LOGIN) when it is missing
  tenant create --name <name>            create a tenant; prints {"tenantId","apiKey"}
  tenant bootstrap --name <name>         create the first tenant if there is none yet
  audit verify --tenant <id> [--chain main]
                                         recompute the chain; exit 0 only when intact
  audit export --tenant <id> [--chain main] [--from-seq n] [--to-seq n]
                                         NDJSON on stdout, one entry a line
  secrets rekey                          re-encrypt every secret under LEDGERLINE_MASTER_KEY
                                         (and bind each endpoint secret to its endpoint)
`;

class UsageError extends Error {}

async function withApp<T>(work: (app: INestApplicationContext) => Promise<T>): Promise<T> {
  const app = await NestFactory.createApplicationContext(CliModule, { logger: ['error'] });
  try {
    return await work(app);
  } finally {
    await app.close();
  }
}

type Handler = (args: string[]) => Promise<number>;

function chainArgs(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      tenant: { type: 'string' },
      chain: { type: 'string', default: 'main' },
      'from-seq': { type: 'string' },
      'to-seq': { type: 'string' },
    },
  });
  if (!values.tenant || !UUID_PATTERN.test(values.tenant))
    throw new UsageError('--tenant <uuid> is required');
  if (!CHAINS.includes(values.chain as ChainName))
    throw new UsageError(`--chain must be one of ${CHAINS.join(', ')}`);
  return { ...values, tenant: values.tenant.toLowerCase(), chain: values.chain as ChainName };
}

const commands: Record<string, Handler> = {
  async migrate(args) {
    const { values } = parseArgs({
      args,
      options: { 'create-runtime-role': { type: 'boolean', default: false } },
    });
    const config = loadConfig();
    const owner = config.migrationDatabaseUrl;
    const applied = await runMigrations(owner, ALL_MIGRATIONS);
    process.stderr.write(
      applied.length ? `applied: ${applied.join(', ')}\n` : 'schema is up to date\n',
    );
    // After every run, so tables added by this or any later migration get their grants too.
    if (values['create-runtime-role']) await ensureRuntimeRole(owner, config.DATABASE_URL);
    const granted = await grantRuntimeRole(owner, config.DATABASE_URL);
    if (granted) process.stderr.write(`granted runtime role ${granted}\n`);
    return 0;
  },
  async 'tenant create'(args) {
    const { values } = parseArgs({ args, options: { name: { type: 'string' } } });
    if (!values.name) throw new UsageError('--name is required');
    const result = await withApp((app) => app.get(TenantService).create(values.name!));
    process.stdout.write(
      `${JSON.stringify({ tenantId: result.tenantId, apiKey: result.apiKey.key })}\n`,
    );
    return 0;
  },
  async 'audit verify'(args) {
    const { tenant, chain } = chainArgs(args);
    const progress = new Progress(`verifying ${chain}`);
    const result = await withApp((app) =>
      app
        .get(AuditChainVerifier)
        .verify(tenant, chain, (done, total) => progress.update(done, total)),
    );
    progress.stop();
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return result.ok ? 0 : 1;
  },
  async 'audit export'(args) {
    const v = chainArgs(args);
    const from = Number(v['from-seq'] ?? 1);
    const to = v['to-seq'] === undefined ? null : Number(v['to-seq']);
    if (!Number.isSafeInteger(from) || from < 1 || (to !== null && !Number.isSafeInteger(to))) {
      throw new UsageError('--from-seq and --to-seq must be positive integers');
    }
    return withApp(async (app) => {
      const repo = app.get(AuditEntryRepository);
      const total = Math.max(
        0,
        Math.min(to ?? Infinity, (await repo.head(v.tenant, v.chain))?.seq ?? 0) - from + 1,
      );
      const progress = new Progress(`exporting ${v.chain}`);
      const { rows, release } = await repo.stream(v.tenant, v.chain, from, to);
      let done = 0;
      try {
        for await (const row of rows) {
          if (!process.stdout.write(`${JSON.stringify(fromRow(row))}\n`)) {
            await new Promise((r) => process.stdout.once('drain', r));
          }
          if (++done % 1000 === 0) progress.update(done, total);
        }
      } finally {
        release();
      }
      progress.update(done, Math.max(total, done));
      progress.stop();
      return 0;
    });
  },
  async 'secrets rekey'() {
    return withApp(async (app) => {
      const rekeyer = app.get(SecretRekeyer);
      const total = await rekeyer.countStale();
      const progress = new Progress('re-encrypting secrets');
      const done = await rekeyer.rekey((n) => progress.update(n, Math.max(total, n)));
      progress.update(done, Math.max(total, done));
      progress.stop();
      process.stdout.write(`${JSON.stringify({ rekeyed: done })}\n`);
      return 0;
    });
  },
  async 'tenant bootstrap'(args) {
    const { values } = parseArgs({
      args,
      options: { name: { type: 'string', default: 'default' } },
    });
    const result = await withApp((app) => app.get(TenantService).createFirst(values.name!));
    if (!result) return 0;
    process.stderr.write('First tenant created. Its admin API key is shown only this once:\n');
    process.stdout.write(
      `${JSON.stringify({ tenantId: result.tenantId, apiKey: result.apiKey.key })}\n`,
    );
    return 0;
  },
};

async function main(argv: string[]): Promise<number> {
  const two = argv.slice(0, 2).join(' ');
  const [name, rest] = commands[two] ? [two, argv.slice(2)] : [argv[0], argv.slice(1)];
  const handler = name ? commands[name] : undefined;
  if (!handler) {
    process.stderr.write(USAGE);
    return 2;
  }
  return handler(rest);
}

main(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((err: Error) => {
    process.stderr.write(
      `${err instanceof UsageError ? `${err.message}\n${USAGE}` : err.message}\n`,
    );
    process.exit(err instanceof UsageError ? 2 : 1);
  });
