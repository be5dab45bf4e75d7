import { Injectable } from '@nestjs/common';
import { KeyObject } from 'node:crypto';
import { Clock } from '@app/platform';
import { KeyMaterial } from '@app/identity';
import { KeyEndorsements } from './key-endorsements';
import { keyIdOf, SigningKeyRing } from './signing-key-ring';
import { SigningKeyRepository, StoredSigningKey } from './signing-key.repository';

export interface CurrentSigningKey {
  privateKey: KeyObject;
  publicKeyPem: string;
  keyId: string;
}

/** A key as `GET /v1/audit/public-keys` shows it. */
export interface ListedSigningKey {
  keyId: string;
  publicKey: string;
  firstUsedAt: string;
}

/**
 * The checkpoint signing keys: the current one (LEDGERLINE_SIGNING_KEY or the development key)
 * and every key that ever signed, so that rotating the key leaves history verifiable. A listed key
 * counts only with the service's endorsement (sealed under the master key when the key is first
 * used): listing alone is within reach of whoever owns the database.
 */
@Injectable()
export class AuditSigningKeys {
  private listed?: Promise<CurrentSigningKey>;
  private readonly endorsements: KeyEndorsements;

  constructor(
    private readonly material: KeyMaterial,
    private readonly repo: SigningKeyRepository,
    private readonly clock: Clock,
  ) {
    this.endorsements = new KeyEndorsements(material.secretBox);
  }

  async current(): Promise<CurrentSigningKey> {
    const { privateKey, publicKeyPem } = await this.material.signingKey();
    return { privateKey, publicKeyPem, keyId: keyIdOf(publicKeyPem) };
  }

  /** The current key, listed and endorsed (once per process) before its first signature. */
  forSigning(): Promise<CurrentSigningKey> {
    this.listed ??= this.current()
      .then(async (key) => {
        await this.repo.add(key.keyId, key.publicKeyPem, this.clock.now());
        await this.endorseIfNeeded(key.keyId);
        return key;
      })
      .catch((err: unknown) => {
        this.listed = undefined;
        throw err;
      });
    return this.listed;
  }

  /** The listed keys this service trusts (a key listed without its endorsement is left out). */
  async list(): Promise<ListedSigningKey[]> {
    const [stored, ring] = await Promise.all([this.repo.list(), this.ring()]);
    return stored
      .filter((k) => ring.trusts(k.keyId) && sameKey(k))
      .map(({ keyId, publicKey, firstUsedAt }) => ({ keyId, publicKey, firstUsedAt }));
  }

  /**
   * The keys verify trusts: the current one always (it may not have signed yet), the development
   * key in service_keys when it opens under the master key, and each listed key whose endorsement
   * opens under the current or previous master key and names it.
   */
  async ring(): Promise<SigningKeyRing> {
    const [stored, current, development] = await Promise.all([
      this.repo.list(),
      this.current(),
      this.material.storedSigningKey(),
    ]);
    const own = [current.publicKeyPem, ...(development ? [development.publicKeyPem] : [])];
    return SigningKeyRing.trusting(own, stored, this.endorsements);
  }

  /**
   * After a master key rotation (`secrets rekey`): every listed key endorsed under the previous
   * master key gets an endorsement under the current one, appended. A key without a valid
   * endorsement stays without one: rekey never vouches for a key the service did not.
   */
  async reendorse(): Promise<number> {
    const due = await this.dueForReendorsement();
    for (const keyId of due) {
      await this.repo.endorse(keyId, this.endorsements.endorse(keyId), this.clock.now());
    }
    return due.length;
  }

  /** How many listed keys `reendorse` would endorse again. */
  async countStale(): Promise<number> {
    return (await this.dueForReendorsement()).length;
  }

  private async dueForReendorsement(): Promise<string[]> {
    const check = this.endorsements;
    return (await this.repo.list())
      .filter(sameKey)
      .filter(
        (k) =>
          !k.endorsements.some((e) => check.isCurrent(e, k.keyId)) &&
          k.endorsements.some((e) => check.endorses(e, k.keyId)),
      )
      .map((k) => k.keyId);
  }

  private async endorseIfNeeded(keyId: string): Promise<void> {
    const endorsements = await this.repo.endorsementsOf(keyId);
    if (endorsements.some((e) => this.endorsements.isCurrent(e, keyId))) return;
    await this.repo.endorse(keyId, this.endorsements.endorse(keyId), this.clock.now());
  }
}

/** A row whose key_id is what its PEM hashes to (the column alone proves nothing). */
function sameKey(k: StoredSigningKey): boolean {
  try {
    return keyIdOf(k.publicKey) === k.keyId;
  } catch {
    return false;
  }
}
