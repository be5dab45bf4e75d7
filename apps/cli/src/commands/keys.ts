import { Command } from 'commander';
import { generateKeyPairSync, randomBytes } from 'node:crypto';

/** The service's own keys as .env lines: what production (and docker/compose.yml) reads. */
export function generatedKeys(): string {
  const master = randomBytes(32).toString('base64');
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().trim();
  // One line: the application turns the literal \n back into line breaks.
  return [
    `LEDGERLINE_MASTER_KEY=${master}`,
    `LEDGERLINE_SIGNING_KEY='${pem.replace(/\n/g, '\\n')}'`,
    '',
  ].join('\n');
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description("the service's own keys");
  keys
    .command('generate')
    .description(
      'print a new master key and Ed25519 signing key as .env lines (e.g. > docker/.env); needs no database',
    )
    .action(() => {
      process.stdout.write(generatedKeys());
    });
}
