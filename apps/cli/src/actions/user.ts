import { DomainError } from '@app/platform';
import { TenantRepository } from '@app/identity';
import { Role, UserService } from '@app/people';
import { CliError, EXIT, printJson } from '../cli-support';
import { withApp } from '../app-context';

export async function create(opts: { tenant: string; email: string; role: Role }) {
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
}
