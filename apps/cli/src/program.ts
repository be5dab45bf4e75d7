import { Command, CommanderError } from 'commander';
import { CliError, EXIT, packageVersion } from './cli-support';
import { registerAudit } from './commands/audit';
import { registerKey } from './commands/key';
import { registerKeys } from './commands/keys';
import { registerMigrate } from './commands/migrate';
import { registerSecrets } from './commands/secrets';
import { registerTenant } from './commands/tenant';
import { registerUser } from './commands/user';

export function buildProgram(): Command {
  const program = new Command('ledgerline')
    .description('Ledgerline operator commands (npm run cli -- <command>)')
    .version(packageVersion())
    // Set before the commands are added: subcommands copy these settings.
    .exitOverride()
    .showHelpAfterError('(add --help for usage)');
  registerMigrate(program);
  registerTenant(program);
  registerUser(program);
  registerKey(program);
  registerKeys(program);
  registerAudit(program);
  registerSecrets(program);
  return program;
}

/** Runs the CLI and returns its exit code (see EXIT); usage errors are 2, --help and --version 0. */
export async function runCli(argv: string[]): Promise<number> {
  process.exitCode = undefined;
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? EXIT.ok);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    process.stderr.write(`${(err as Error).message}\n`);
    return err instanceof CliError ? err.exitCode : EXIT.failed;
  }
}
