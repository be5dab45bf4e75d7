import { Command, InvalidArgumentError } from 'commander';
import { isRole, Role, ROLES } from '@app/people/roles';
import { lazyAction, uuidArg } from '../cli-support';

const actions = () => import('../actions/user.js');

function roleArg(value: string): Role {
  if (!isRole(value)) throw new InvalidArgumentError(`one of ${ROLES.join(', ')}`);
  return value;
}

export function registerUser(program: Command): void {
  const user = program.command('user').description("manage a tenant's people");
  user
    .command('create')
    .description(
      'create a user with a generated password; prints {"userId","email","role","password"}, the password only this once',
    )
    .requiredOption('--tenant <id>', 'tenant id (UUID)', uuidArg)
    .requiredOption('--email <email>', 'the email they sign in with')
    .requiredOption('--role <role>', ROLES.join(' | '), roleArg)
    .action(lazyAction(actions, 'create'));
}
