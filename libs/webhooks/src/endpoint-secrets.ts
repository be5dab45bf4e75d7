import { Injectable } from '@nestjs/common';
import { Clock } from '@app/platform';
import { KeyMaterial } from '@app/identity';
import { secretOwner, WebhookEndpoint } from './webhook-endpoint';

/**
 * Seals and opens endpoint signing secrets under the master key, bound to their owner (tenant
 * and endpoint): a database writer who copies tenant B's sealed secret into an endpoint of
 * theirs gets a value that does not open there. Values sealed before owners were bound still
 * open until `secrets rekey` re-seals them bound.
 */
@Injectable()
export class EndpointSecrets {
  constructor(
    private readonly keys: KeyMaterial,
    private readonly clock: Clock,
  ) {}

  get currentKeyId(): string {
    return this.keys.secretBox.currentKeyId;
  }

  /** How a value bound to its owner under the current key begins (rekey migrates the rest). */
  get boundPrefix(): string {
    return this.keys.secretBox.ownedPrefix;
  }

  seal(tenantId: string, endpointId: string, secret: string): string {
    return this.keys.secretBox.seal(secret, secretOwner(tenantId, endpointId));
  }

  open(tenantId: string, endpointId: string, sealed: string): string {
    return this.keys.secretBox.open(sealed, secretOwner(tenantId, endpointId));
  }

  /** The secrets that sign a delivery now: the current one, plus the previous during its overlap. */
  signing(endpoint: WebhookEndpoint): string[] {
    const { tenantId, id } = endpoint;
    const secrets = [this.open(tenantId, id, endpoint.secretSealed)];
    if (
      endpoint.previousSecretSealed &&
      endpoint.previousSecretExpiresAt &&
      endpoint.previousSecretExpiresAt > this.clock.now()
    ) {
      secrets.push(this.open(tenantId, id, endpoint.previousSecretSealed));
    }
    return secrets;
  }
}
