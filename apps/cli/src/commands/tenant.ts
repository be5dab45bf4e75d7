import { Command } from 'commander';
import { TenantRepository, TenantService } from '@app/identity';
import { printJson, withApp } from '../cli-support';

export function registerTenant(program: Command): void {
  const tenant = program.command('tenant').description('create and list tenants');
  tenant
    .command('create')
    .description('create a tenant; prints {"tenantId","apiKey"} (an admin key, all scopes)')
    .requiredOption('--name <name>', "the tenant's name")
    .action(async (opts: { name: string }) => {
      const result = await withApp((app) => app.get(TenantService).create(opts.name));
      printJson({ tenantId: result.tenantId, apiKey: result.apiKey.key });
    });
  tenant
    .command('bootstrap')
    .description('create the first tenant if there is none yet (prints its key only then)')
    .option('--name <name>', "the tenant's name", 'default')
    .action(async (opts: { name: string }) => {
      const result = await withApp((app) => app.get(TenantService).createFirst(opts.name));
      if (!result) return;
      process.stderr.write('First tenant created. Its admin API key is shown only this once:\n');
      printJson({ tenantId: result.tenantId, apiKey: result.apiKey.key });
    });
  tenant
    .command('list')
    .description('every tenant as JSON: [{"tenantId","name","createdAt"}], oldest first')
    .action(async () => printJson(await withApp((app) => app.get(TenantRepository).list())));
}
