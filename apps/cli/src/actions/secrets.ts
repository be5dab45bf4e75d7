import { AuditSigningKeys } from '@app/audit';
import { SecretRekeyer } from '@app/webhooks';
import { Progress } from '../progress';
import { printJson } from '../cli-support';
import { withApp } from '../app-context';

export function rekey() {
  return withApp(async (app) => {
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
  });
}
