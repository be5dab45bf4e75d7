import { Command } from 'commander';
import { lazyAction } from '../cli-support';

const actions = () => import('../actions/migrate.js');

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description(
      "apply database migrations as MIGRATION_DATABASE_URL (default DATABASE_URL), then grant DATABASE_URL's role what the application needs (append-only tables: SELECT and INSERT only)",
    )
    .option('--create-runtime-role', "create DATABASE_URL's role (LOGIN) when it is missing")
    .action(lazyAction(actions, 'migrate'));
}
