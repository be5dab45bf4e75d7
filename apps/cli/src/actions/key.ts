import { Scope } from '@app/platform';
import { ApiKeyService, TenantRepository } from '@app/identity';
import { CliError, EXIT, printJson } from '../cli-support';
import { withApp } from '../app-context';

export async function create(opts: { tenant: string; scopes: Scope[]; name: string }) {
  const created = await withApp(async (app) => {
    if (!(await app.get(TenantRepository).exists(opts.tenant))) {
      throw new CliError(`unknown tenant ${opts.tenant}`, EXIT.usage);
    }
    return app.get(ApiKeyService).createByOperator(opts.tenant, opts.name, opts.scopes);
  });
  printJson({ id: created.id, key: created.key, scopes: created.scopes });
}
