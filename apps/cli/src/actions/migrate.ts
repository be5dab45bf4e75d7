import { ensureRuntimeRole, grantRuntimeRole, loadConfig, runMigrations } from '@app/platform';
import { ALL_MIGRATIONS } from '@app/schema';

export async function migrate(opts: { createRuntimeRole?: boolean }) {
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
}
