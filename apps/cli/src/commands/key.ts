import { Command } from 'commander';
import { Scope } from '@app/platform';
import { ApiKeyService, TenantRepository } from '@app/identity';
import { CliError, EXIT, printJson, scopesArg, uuidArg, withApp } from '../cli-support';

export function registerKey(program: Command): void {
  const key = program.command('key').description("manage a tenant's API keys without the API");
  key
    .command('create')
    .description(
      'create an API key for a tenant (e.g. after losing the admin key); prints {"id","key","scopes"}, the key only this once',
    )
    .requiredOption('--tenant <id>', 'tenant id (UUID)', uuidArg)
    .requiredOption(
      '--scopes <list>',
      'comma-separated scopes, e.g. admin or events:write',
      scopesArg,
    )
    .option('--name <name>', "the key's name", 'operator')
    .action(async (opts: { tenant: string; scopes: Scope[]; name: string }) => {
      const created = await withApp(async (app) => {
        if (!(await app.get(TenantRepository).exists(opts.tenant))) {
          throw new CliError(`unknown tenant ${opts.tenant}`, EXIT.usage);
        }
        return app.get(ApiKeyService).createByOperator(opts.tenant, opts.name, opts.scopes);
      });
      printJson({ id: created.id, key: created.key, scopes: created.scopes });
    });
}
