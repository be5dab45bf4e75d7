import { Command, Option } from 'commander';
import { CHAINS } from '@app/audit/audit-entry';
import { lazyAction, positiveIntArg, uuidArg } from '../cli-support';

const actions = () => import('../actions/audit.js');

const chainOptions = (cmd: Command) =>
  cmd
    .requiredOption('--tenant <id>', 'tenant id (UUID)', uuidArg)
    .addOption(new Option('--chain <name>', 'which chain').choices(CHAINS).default('main'));

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description("check and copy a tenant's audit chain");
  chainOptions(
    audit
      .command('verify')
      .description(
        'recompute the chain and check it against its signed checkpoints; prints the result as JSON. Exit 0 intact, 1 broken, 2 could not check (or unknown tenant)',
      ),
  ).action(lazyAction(actions, 'verify'));
  chainOptions(
    audit
      .command('export')
      .description('the chain as NDJSON on stdout, one entry a line, in seq order'),
  )
    .option('--from-seq <n>', 'first entry', positiveIntArg, 1)
    .option('--to-seq <n>', 'last entry (default: the head)', positiveIntArg)
    .action(lazyAction(actions, 'exportChain'));
}
