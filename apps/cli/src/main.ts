import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { NestFactory } from '@nestjs/core';
import { INestApplicationContext } from '@nestjs/common';
import { loadConfig, runMigrations } from '@app/platform';
import { TenantService } from '@app/identity';
import { ALL_MIGRATIONS } from '@app/schema';
import { CliModule } from './cli.module';

const USAGE = `usage: npm run cli -- <command>
  migrate                                apply database migrations
  tenant create --name <name>            create a tenant; prints {"tenantId","apiKey"}
  tenant bootstrap --name <name>         create the first tenant if there is none yet
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

const commands: Record<string, Handler> = {
  async migrate() {
    const applied = await runMigrations(loadConfig().DATABASE_URL, ALL_MIGRATIONS);
    process.stderr.write(
      applied.length ? `applied: ${applied.join(', ')}\n` : 'schema is up to date\n',
    );
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
