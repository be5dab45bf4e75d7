import { Command } from 'commander';
import { lazyAction, scopesArg, uuidArg } from '../cli-support';

const actions = () => import('../actions/key.js');

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
    .action(lazyAction(actions, 'create'));
}
