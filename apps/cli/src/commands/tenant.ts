import { Command } from 'commander';
import { lazyAction } from '../cli-support';

const actions = () => import('../actions/tenant.js');

export function registerTenant(program: Command): void {
  const tenant = program.command('tenant').description('create and list tenants');
  tenant
    .command('create')
    .description('create a tenant; prints {"tenantId","apiKey"} (an admin key, all scopes)')
    .requiredOption('--name <name>', "the tenant's name")
    .action(lazyAction(actions, 'create'));
  tenant
    .command('bootstrap')
    .description('create the first tenant if there is none yet (prints its key only then)')
    .option('--name <name>', "the tenant's name", 'default')
    .action(lazyAction(actions, 'bootstrap'));
  tenant
    .command('list')
    .description('every tenant as JSON: [{"tenantId","name","createdAt"}], oldest first')
    .action(lazyAction(actions, 'list'));
}
