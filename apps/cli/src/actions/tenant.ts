import { TenantRepository, TenantService } from '@app/identity';
import { printJson } from '../cli-support';
import { withApp } from '../app-context';

export async function create(opts: { name: string }) {
  const result = await withApp((app) => app.get(TenantService).create(opts.name));
  printJson({ tenantId: result.tenantId, apiKey: result.apiKey.key });
}

export async function bootstrap(opts: { name: string }) {
  const result = await withApp((app) => app.get(TenantService).createFirst(opts.name));
  if (!result) return;
  process.stderr.write('First tenant created. Its admin API key is shown only this once:\n');
  printJson({ tenantId: result.tenantId, apiKey: result.apiKey.key });
}

export async function list() {
  printJson(await withApp((app) => app.get(TenantRepository).list()));
}
