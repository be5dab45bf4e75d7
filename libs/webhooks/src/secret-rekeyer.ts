import { Injectable } from '@nestjs/common';
import { Database } from '@app/platform';
import { KeyMaterial, ServiceKeyRepository } from '@app/identity';
import { EndpointSecrets } from './endpoint-secrets';
import { WebhookEndpointRepository } from './webhook-endpoint.repository';

const PAGE = 500;

/**
 * Re-encrypts every sealed secret that is not under the current master key (or, for endpoint
 * secrets, not yet bound to its owner): endpoint secrets and the service's own sealed keys
 * (service_keys, e.g. the audit signing key).
 */
@Injectable()
export class SecretRekeyer {
  constructor(
    private readonly db: Database,
    private readonly keys: KeyMaterial,
    private readonly endpoints: WebhookEndpointRepository,
    private readonly secrets: EndpointSecrets,
    private readonly serviceKeys: ServiceKeyRepository,
  ) {}

  async countStale(): Promise<number> {
    const endpoints = await this.endpoints.countStaleSecrets(
      this.secrets.currentKeyId,
      this.secrets.boundPrefix,
    );
    const serviceKeys = await this.serviceKeys.sealedKeys();
    return endpoints + serviceKeys.filter((k) => !this.keys.secretBox.isCurrent(k)).length;
  }

  async rekey(onProgress?: (done: number) => void): Promise<number> {
    let done = await this.rekeyServiceKeys();
    for (;;) {
      const n = await this.db.transaction(async (tx) => {
        const stale = await this.endpoints.lockStaleSecrets(
          tx,
          this.secrets.currentKeyId,
          this.secrets.boundPrefix,
          PAGE,
        );
        for (const e of stale) {
          const reseal = (sealed: string) =>
            this.secrets.seal(e.tenantId, e.id, this.secrets.open(e.tenantId, e.id, sealed));
          await this.endpoints.replaceSecrets(
            tx,
            {
              ...e,
              secretSealed: reseal(e.secretSealed),
              previousSecretSealed: e.previousSecretSealed && reseal(e.previousSecretSealed),
            },
            this.secrets.currentKeyId,
          );
        }
        return stale.length;
      });
      done += n;
      onProgress?.(done);
      if (n < PAGE) return done;
    }
  }

  /**
   * The service's own keys are sealed under the master key too: left alone, they could not be
   * opened once LEDGERLINE_MASTER_KEY_PREVIOUS is dropped.
   */
  private async rekeyServiceKeys(): Promise<number> {
    const box = this.keys.secretBox;
    return this.db.transaction(async (tx) => {
      const stale = (await this.serviceKeys.lockAll(tx)).filter(
        (k) => !box.isCurrent(k.sealedPrivateKey),
      );
      for (const k of stale) {
        await this.serviceKeys.replaceSealed(tx, k.purpose, box.seal(box.open(k.sealedPrivateKey)));
      }
      return stale.length;
    });
  }
}
