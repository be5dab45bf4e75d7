import { Command } from 'commander';
import { lazyAction } from '../cli-support';

const actions = () => import('../actions/secrets.js');

export function registerSecrets(program: Command): void {
  const secrets = program.command('secrets').description('secrets sealed at rest');
  secrets
    .command('rekey')
    .description(
      're-encrypt every secret under LEDGERLINE_MASTER_KEY (after a rotation, with the old key in LEDGERLINE_MASTER_KEY_PREVIOUS), bind each endpoint secret to its endpoint and endorse again under the new key every audit signing key the old one endorsed; prints {"rekeyed"}',
    )
    .action(lazyAction(actions, 'rekey'));
}
