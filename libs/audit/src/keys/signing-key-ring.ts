import { createHash, createPublicKey, KeyObject, verify } from 'node:crypto';

/** keyId: lowercase hex SHA-256 of the key's SPKI DER (SPEC section 4). */
export function keyIdOf(publicKey: KeyObject | string): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** A key as audit_signing_keys lists it, with the endorsements stored for it. */
export interface ListedKey {
  publicKey: string;
  endorsements: string[];
}

/** Tells whether an endorsement is the service's own, for the keyId it names. */
export interface EndorsementCheck {
  endorses(endorsement: string, keyId: string): boolean;
}

/** An Ed25519 public key from a PEM, or null for anything else (a listed row is not trusted input). */
function ed25519(pem: string): KeyObject | null {
  try {
    const key = createPublicKey(pem);
    return key.asymmetricKeyType === 'ed25519' ? key : null;
  } catch {
    return null;
  }
}

/** The public keys a checkpoint may be signed with, by keyId. */
export class SigningKeyRing {
  private readonly keys = new Map<string, KeyObject>();

  constructor(trustedPems: string[]) {
    for (const pem of trustedPems) {
      const key = ed25519(pem);
      if (key) this.keys.set(keyIdOf(key), key);
    }
  }

  /**
   * The trust rules. The keys the service holds now (`own`: the configured key, the development
   * key it can open) are trusted as they are. A listed key is trusted only with an endorsement
   * for the keyId computed from its own PEM: a row of audit_signing_keys alone is no proof, since
   * whoever owns the database can insert one for a key of their own.
   */
  static trusting(own: string[], listed: ListedKey[], check: EndorsementCheck): SigningKeyRing {
    const endorsed = listed.filter((k) => {
      const key = ed25519(k.publicKey);
      if (!key) return false;
      const keyId = keyIdOf(key);
      return k.endorsements.some((e) => check.endorses(e, keyId));
    });
    return new SigningKeyRing([...own, ...endorsed.map((k) => k.publicKey)]);
  }

  get size(): number {
    return this.keys.size;
  }

  trusts(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  /**
   * True when the signature verifies under the trusted key its keyId names. A checkpoint signed
   * before keyIds were recorded (keyId null) verifies under any trusted key: each of them is a key
   * the service signed with, so a match is as good as a named one.
   */
  verifies(payload: Buffer, signature: Buffer, keyId: string | null): boolean {
    if (keyId !== null) {
      const key = this.keys.get(keyId);
      return key !== undefined && verify(null, payload, key, signature);
    }
    for (const key of this.keys.values()) if (verify(null, payload, key, signature)) return true;
    return false;
  }
}
