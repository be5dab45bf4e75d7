import { Command, InvalidArgumentError } from 'commander';
import { DomainError } from '@app/platform';
import { TenantRepository } from '@app/identity';
import { isRole, Role, ROLES, UserService } from '@app/people';
import { CliError, EXIT, printJson, uuidArg, withApp } from '../cli-support';

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
    .action(async (opts: { tenant: string; email: string; role: Role }) => {
      const created = await withApp(async (app) => {
        if (!(await app.get(TenantRepository).exists(opts.tenant))) {
          throw new CliError(`unknown tenant ${opts.tenant}`, EXIT.usage);
        }
        try {
          return await app.get(UserService).createByOperator(opts.tenant, opts.email, opts.role);
        } catch (err) {
          if (err instanceof DomainError) throw new CliError(err.message, EXIT.usage);
          throw err;
        }
      });
      printJson({
        userId: created.userId,
        email: created.email,
        role: created.role,
        password: created.password,
      });
    });
}
