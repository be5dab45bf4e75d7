import { INestApplicationContext } from '@nestjs/common';
import { TenantRepository } from '@app/identity';
import { AuditChainVerifier, AuditEntryRepository, ChainName, fromRow } from '@app/audit';
import { Progress } from '../progress';
import { CliError, EXIT, printJson } from '../cli-support';
import { withApp } from '../app-context';

interface ChainOptions {
  tenant: string;
  chain: ChainName;
}

async function knownTenant(app: INestApplicationContext, tenant: string): Promise<void> {
  if (!(await app.get(TenantRepository).exists(tenant))) {
    throw new CliError(`unknown tenant ${tenant}`, EXIT.usage);
  }
}

/** 0 intact, 1 broken; any other failure (database down, ...) is 2: the chain was not checked. */
export async function verify(opts: ChainOptions): Promise<void> {
  const progress = new Progress(`verifying ${opts.chain}`);
  let result: { ok: boolean };
  try {
    result = await withApp(async (app) => {
      await knownTenant(app, opts.tenant);
      return app
        .get(AuditChainVerifier)
        .verify(opts.tenant, opts.chain, (done, total) => progress.update(done, total));
    });
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`could not verify the chain: ${(err as Error).message}`, EXIT.usage);
  } finally {
    progress.stop();
  }
  printJson(result);
  process.exitCode = result.ok ? EXIT.ok : EXIT.failed;
}

export async function exportChain(opts: ChainOptions & { fromSeq: number; toSeq?: number }) {
  await withApp(async (app) => {
    await knownTenant(app, opts.tenant);
    const repo = app.get(AuditEntryRepository);
    const to = opts.toSeq ?? null;
    const head = (await repo.head(opts.tenant, opts.chain))?.seq ?? 0;
    const total = Math.max(0, Math.min(to ?? Infinity, head) - opts.fromSeq + 1);
    const progress = new Progress(`exporting ${opts.chain}`);
    const { rows, release } = await repo.stream(opts.tenant, opts.chain, opts.fromSeq, to);
    let done = 0;
    try {
      for await (const row of rows) {
        if (!process.stdout.write(`${JSON.stringify(fromRow(row))}\n`)) {
          await new Promise((r) => process.stdout.once('drain', r));
        }
        if (++done % 1000 === 0) progress.update(done, total);
      }
    } finally {
      release();
    }
    progress.update(done, Math.max(total, done));
    progress.stop();
  });
}
