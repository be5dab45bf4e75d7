import { createHash, createPublicKey, KeyObject, verify } from 'node:crypto';

/** keyId: lowercase hex SHA-256 of the key's SPKI DER (SPEC section 4). */
export function keyIdOf(publicKey: KeyObject | string): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** Every public key that ever signed a checkpoint, by keyId. */
export class SigningKeyRing {
  private readonly keys = new Map<string, KeyObject>();

  constructor(publicKeyPems: string[]) {
    for (const pem of publicKeyPems) {
      const key = createPublicKey(pem);
      this.keys.set(keyIdOf(key), key);
    }
  }

  get size(): number {
    return this.keys.size;
  }

  /**
   * True when the signature verifies under the key its keyId names. A checkpoint signed before
   * keyIds were recorded (keyId null) verifies under any listed key: each of them is a key the
   * service signed with, so a match is as good as a named one.
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
