import { INestApplicationContext } from '@nestjs/common';
import { Command, Option } from 'commander';
import { TenantRepository } from '@app/identity';
import { AuditChainVerifier, AuditEntryRepository, ChainName, CHAINS, fromRow } from '@app/audit';
import { Progress } from '../progress';
import { CliError, EXIT, positiveIntArg, printJson, uuidArg, withApp } from '../cli-support';

interface ChainOptions {
  tenant: string;
  chain: ChainName;
}

const chainOptions = (cmd: Command) =>
  cmd
    .requiredOption('--tenant <id>', 'tenant id (UUID)', uuidArg)
    .addOption(new Option('--chain <name>', 'which chain').choices(CHAINS).default('main'));

async function knownTenant(app: INestApplicationContext, tenant: string): Promise<void> {
  if (!(await app.get(TenantRepository).exists(tenant))) {
    throw new CliError(`unknown tenant ${tenant}`, EXIT.usage);
  }
}

/** 0 intact, 1 broken; any other failure (database down, ...) is 2: the chain was not checked. */
async function verify(opts: ChainOptions): Promise<void> {
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

async function exportChain(opts: ChainOptions & { fromSeq: number; toSeq?: number }) {
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

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description("check and copy a tenant's audit chain");
  chainOptions(
    audit
      .command('verify')
      .description(
        'recompute the chain and check it against its signed checkpoints; prints the result as JSON. Exit 0 intact, 1 broken, 2 could not check (or unknown tenant)',
      ),
  ).action(verify);
  chainOptions(
    audit
      .command('export')
      .description('the chain as NDJSON on stdout, one entry a line, in seq order'),
  )
    .option('--from-seq <n>', 'first entry', positiveIntArg, 1)
    .option('--to-seq <n>', 'last entry (default: the head)', positiveIntArg)
    .action(exportChain);
}
