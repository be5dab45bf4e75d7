import { Injectable } from '@nestjs/common';
import { Clock } from '@app/platform';
import { KeyMaterial } from '@app/identity';
import { WebhookEndpoint } from './webhook-endpoint';

/** Seals and opens endpoint signing secrets under the master key. */
@Injectable()
export class EndpointSecrets {
  constructor(
    private readonly keys: KeyMaterial,
    private readonly clock: Clock,
  ) {}

  get currentKeyId(): string {
    return this.keys.secretBox.currentKeyId;
  }

  /** How a sealed value bound to its owner begins (what rekey has not yet migrated does not). */
  get boundPrefix(): string {
    return 'v1.';
  }

  seal(_tenantId: string, _endpointId: string, secret: string): string {
    return this.keys.secretBox.seal(secret);
  }

  open(_tenantId: string, _endpointId: string, sealed: string): string {
    return this.keys.secretBox.open(sealed);
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
