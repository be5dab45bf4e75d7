import { Injectable } from '@nestjs/common';
import { Clock } from '@app/platform';
import { KeyMaterial } from '@app/identity';
import { secretOwner, WebhookEndpoint } from './webhook-endpoint';

const OPENED_KEPT = 10000;

/**
 * Seals and opens endpoint signing secrets under the master key, bound to their owner (tenant
 * and endpoint): a database writer who copies tenant B's sealed secret into an endpoint of
 * theirs gets a value that does not open there. Values sealed before owners were bound still
 * open until `secrets rekey` re-seals them bound.
 */
@Injectable()
export class EndpointSecrets {
  // Opened secrets by owner and sealed value, so an attempt does not decrypt again (a new
  // secret or key is a new sealed value). Emptied when full: a bound, not a policy.
  private readonly opened = new Map<string, string>();

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
    const secrets = [this.openForSigning(endpoint, endpoint.secretSealed)];
    if (
      endpoint.previousSecretSealed &&
      endpoint.previousSecretExpiresAt &&
      endpoint.previousSecretExpiresAt > this.clock.now()
    ) {
      secrets.push(this.openForSigning(endpoint, endpoint.previousSecretSealed));
    }
    return secrets;
  }

  private openForSigning({ tenantId, id }: WebhookEndpoint, sealed: string): string {
    const key = `${tenantId}/${id}/${sealed}`;
    let secret = this.opened.get(key);
    if (secret === undefined) {
      secret = this.open(tenantId, id, sealed);
      if (this.opened.size >= OPENED_KEPT) this.opened.clear();
      this.opened.set(key, secret);
    }
    return secret;
  }
}
