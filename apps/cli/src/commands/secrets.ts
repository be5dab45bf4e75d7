import { Command } from 'commander';
import { AuditSigningKeys } from '@app/audit';
import { SecretRekeyer } from '@app/webhooks';
import { Progress } from '../progress';
import { printJson, withApp } from '../cli-support';

export function registerSecrets(program: Command): void {
  const secrets = program.command('secrets').description('secrets sealed at rest');
  secrets
    .command('rekey')
    .description(
      're-encrypt every secret under LEDGERLINE_MASTER_KEY (after a rotation, with the old key in LEDGERLINE_MASTER_KEY_PREVIOUS), bind each endpoint secret to its endpoint and endorse again under the new key every audit signing key the old one endorsed; prints {"rekeyed"}',
    )
    .action(() =>
      withApp(async (app) => {
        const rekeyer = app.get(SecretRekeyer);
        // Endorsements of audit signing keys are sealed under the master key too: without new
        // ones, dropping LEDGERLINE_MASTER_KEY_PREVIOUS would leave history unverifiable.
        const signingKeys = app.get(AuditSigningKeys);
        const total = (await rekeyer.countStale()) + (await signingKeys.countStale());
        const progress = new Progress('re-encrypting secrets');
        const rekeyed = await rekeyer.rekey((n) => progress.update(n, Math.max(total, n)));
        const done = rekeyed + (await signingKeys.reendorse());
        progress.update(done, Math.max(total, done));
        progress.stop();
        printJson({ rekeyed: done });
      }),
    );
}
