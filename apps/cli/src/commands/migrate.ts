import { Command } from 'commander';
import { ensureRuntimeRole, grantRuntimeRole, loadConfig, runMigrations } from '@app/platform';
import { ALL_MIGRATIONS } from '@app/schema';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description(
      "apply database migrations as MIGRATION_DATABASE_URL (default DATABASE_URL), then grant DATABASE_URL's role what the application needs (append-only tables: SELECT and INSERT only)",
    )
    .option('--create-runtime-role', "create DATABASE_URL's role (LOGIN) when it is missing")
    .action(async (opts: { createRuntimeRole?: boolean }) => {
      const config = loadConfig();
      const owner = config.migrationDatabaseUrl;
      const applied = await runMigrations(owner, ALL_MIGRATIONS);
      process.stderr.write(
        applied.length ? `applied: ${applied.join(', ')}\n` : 'schema is up to date\n',
      );
      // After every run, so tables added by this or any later migration get their grants too.
      if (opts.createRuntimeRole) await ensureRuntimeRole(owner, config.DATABASE_URL);
      const granted = await grantRuntimeRole(owner, config.DATABASE_URL);
      if (granted) process.stderr.write(`granted runtime role ${granted}\n`);
    });
}
