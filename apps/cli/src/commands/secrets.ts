import { Command } from 'commander';
import { SecretRekeyer } from '@app/webhooks';
import { Progress } from '../progress';
import { printJson, withApp } from '../cli-support';

export function registerSecrets(program: Command): void {
  const secrets = program.command('secrets').description('secrets sealed at rest');
  secrets
    .command('rekey')
    .description(
      're-encrypt every secret under LEDGERLINE_MASTER_KEY (after a rotation, with the old key in LEDGERLINE_MASTER_KEY_PREVIOUS) and bind each endpoint secret to its endpoint; prints {"rekeyed"}',
    )
    .action(() =>
      withApp(async (app) => {
        const rekeyer = app.get(SecretRekeyer);
        const total = await rekeyer.countStale();
        const progress = new Progress('re-encrypting secrets');
        const done = await rekeyer.rekey((n) => progress.update(n, Math.max(total, n)));
        progress.update(done, Math.max(total, done));
        progress.stop();
        printJson({ rekeyed: done });
      }),
    );
}
