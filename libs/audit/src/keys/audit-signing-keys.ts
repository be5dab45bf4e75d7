import { Injectable } from '@nestjs/common';
import { KeyObject } from 'node:crypto';
import { Clock } from '@app/platform';
import { KeyMaterial } from '@app/identity';
import { keyIdOf, SigningKeyRing } from './signing-key-ring';
import { ListedSigningKey, SigningKeyRepository } from './signing-key.repository';

export interface CurrentSigningKey {
  privateKey: KeyObject;
  publicKeyPem: string;
  keyId: string;
}

/**
 * The checkpoint signing keys: the current one (LEDGERLINE_SIGNING_KEY or the development key)
 * and every key that ever signed, so that rotating the key leaves history verifiable.
 */
@Injectable()
export class AuditSigningKeys {
  private listed?: Promise<CurrentSigningKey>;

  constructor(
    private readonly material: KeyMaterial,
    private readonly repo: SigningKeyRepository,
    private readonly clock: Clock,
  ) {}

  async current(): Promise<CurrentSigningKey> {
    const { privateKey, publicKeyPem } = await this.material.signingKey();
    return { privateKey, publicKeyPem, keyId: keyIdOf(publicKeyPem) };
  }

  /** The current key, listed (once per process) before its first signature. */
  forSigning(): Promise<CurrentSigningKey> {
    this.listed ??= this.current()
      .then(async (key) => {
        await this.repo.add(key.keyId, key.publicKeyPem, this.clock.now());
        return key;
      })
      .catch((err: unknown) => {
        this.listed = undefined;
        throw err;
      });
    return this.listed;
  }

  list(): Promise<ListedSigningKey[]> {
    return this.repo.list();
  }

  /** Every listed key plus the current one (which may not have signed yet). */
  async ring(): Promise<SigningKeyRing> {
    const [listed, current] = await Promise.all([this.repo.list(), this.current()]);
    return new SigningKeyRing([...listed.map((k) => k.publicKey), current.publicKeyPem]);
  }
}
