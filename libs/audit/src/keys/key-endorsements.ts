import { SecretBox } from '@app/security';

/** What an endorsement says, and the owner its seal is bound to (in the AAD). */
const statement = (keyId: string) => `audit-signing-key:${keyId}`;
const owner = (keyId: string) => `audit_signing_key/${keyId}`;

/**
 * The service's word that a listed key is one of its signing keys: the statement naming the
 * keyId, sealed under the master key (AES-256-GCM) and bound to that keyId. Whoever can write
 * the database but does not hold the master key cannot make one for a key of their own, nor move
 * one to another key (the binding and the statement both name it).
 */
export class KeyEndorsements {
  constructor(private readonly box: SecretBox) {}

  endorse(keyId: string): string {
    return this.box.seal(statement(keyId), owner(keyId));
  }

  /** True when the endorsement opens under the current or previous master key and names keyId. */
  endorses(endorsement: string, keyId: string): boolean {
    try {
      return this.box.openOwned(endorsement, owner(keyId)) === statement(keyId);
    } catch {
      return false;
    }
  }

  /** Endorses keyId under the current master key: nothing for rekey to do. */
  isCurrent(endorsement: string, keyId: string): boolean {
    return this.box.isCurrent(endorsement, owner(keyId)) && this.endorses(endorsement, keyId);
  }
}
