import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { SecurityError } from './security-error';

export interface MasterKeyring {
  current: Buffer;
  previous?: Buffer;
}

/** v1: AAD binds version and key id. v2: it binds the owner too (e.g. tenant and endpoint). */
const LEGACY = 'v1';
const OWNED = 'v2';
const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const B64URL = /^[A-Za-z0-9_-]*$/;

interface SealedParts {
  version: string;
  keyId: string;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

function checkKey(key: Buffer, name: string): Buffer {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
    throw new Error(`${name} must be ${KEY_BYTES} bytes`);
  }
  return Buffer.from(key);
}

function decodeKey(value: string, envName: string): Buffer {
  const trimmed = value.trim();
  const key = Buffer.from(trimmed, 'base64');
  if (trimmed === '' || key.length !== KEY_BYTES) {
    throw new Error(
      `${envName} must be base64 of exactly ${KEY_BYTES} bytes (got ${key.length} bytes)`,
    );
  }
  return key;
}

function decryptFailed(reason: string): SecurityError {
  return new SecurityError('decrypt_failed', 500, `cannot decrypt secret: ${reason}`);
}

function aad(version: string, keyId: string, owner: string | undefined): Buffer {
  return Buffer.from(version === OWNED ? `${version}.${keyId}.${owner}` : `${version}.${keyId}`);
}

/**
 * Authenticated encryption of secrets at rest (AES-256-GCM, random 96-bit IV per value).
 *
 * Sealed format: `<version>.<keyId>.<iv b64url>.<ciphertext b64url>.<tag b64url>` where keyId is
 * the first 16 hex chars of SHA-256(key). Sealed for an owner (`seal(plaintext, owner)`, e.g. a
 * tenant's endpoint), the value is `v2` and `v2.<keyId>.<owner>` is the additional authenticated
 * data: copied to another owner's row it does not open. Without an owner it is `v1`, with
 * `v1.<keyId>` as AAD; `v1` values, sealed before owners were bound, still open for any owner
 * until `secrets rekey` re-seals them (`isCurrent(sealed, owner)` is false for them). During key
 * rotation the previous key still opens old values; `isCurrent` tells which need re-encryption.
 */
export class SecretBox {
  readonly currentKeyId: string;
  private readonly keys = new Map<string, Buffer>();

  constructor(keyring: MasterKeyring) {
    const current = checkKey(keyring.current, 'current master key');
    this.currentKeyId = keyIdOf(current);
    if (keyring.previous !== undefined) {
      const previous = checkKey(keyring.previous, 'previous master key');
      this.keys.set(keyIdOf(previous), previous);
    }
    this.keys.set(this.currentKeyId, current);
  }

  /**
   * Builds a box from base64 keys (`LEDGERLINE_MASTER_KEY`, `LEDGERLINE_MASTER_KEY_PREVIOUS`).
   * An empty or absent previous key is ignored.
   */
  static fromBase64(current: string, previous?: string): SecretBox {
    const currentKey = decodeKey(
      typeof current === 'string' ? current : '',
      'LEDGERLINE_MASTER_KEY',
    );
    const previousKey =
      previous !== undefined && previous.trim() !== ''
        ? decodeKey(previous, 'LEDGERLINE_MASTER_KEY_PREVIOUS')
        : undefined;
    return new SecretBox({ current: currentKey, previous: previousKey });
  }

  /** The prefix of values sealed for an owner under the current key. */
  get ownedPrefix(): string {
    return `${OWNED}.${this.currentKeyId}.`;
  }

  seal(plaintext: string, owner?: string): string {
    const key = this.keys.get(this.currentKeyId) as Buffer;
    const iv = randomBytes(IV_BYTES);
    const version = owner === undefined ? LEGACY : OWNED;
    const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(version, this.currentKeyId, owner));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [
      version,
      this.currentKeyId,
      iv.toString('base64url'),
      ciphertext.toString('base64url'),
      tag.toString('base64url'),
    ].join('.');
  }

  /** Opens a value; one sealed for an owner opens only for that same owner. */
  open(sealed: string, owner?: string): string {
    const parts = SecretBox.parse(sealed);
    if (!parts) {
      throw decryptFailed('malformed sealed value');
    }
    if (parts.version === OWNED && owner === undefined) {
      throw decryptFailed('value is bound to an owner');
    }
    const key = this.keys.get(parts.keyId);
    if (!key) {
      throw decryptFailed(`unknown key id ${parts.keyId}`);
    }
    try {
      const decipher = createDecipheriv(ALGORITHM, key, parts.iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(parts.version, parts.keyId, owner));
      decipher.setAuthTag(parts.tag);
      return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw decryptFailed('authentication failed');
    }
  }

  /**
   * Opens only a value sealed for this very owner: a legacy `v1` value, bound to no owner, is
   * refused (`open` still accepts those until rekey). For values whose owner binding is the point,
   * e.g. an endorsement that names what it endorses.
   */
  openOwned(sealed: string, owner: string): string {
    if (SecretBox.parse(sealed)?.version !== OWNED) {
      throw decryptFailed('value is bound to no owner');
    }
    return this.open(sealed, owner);
  }

  /**
   * True when `sealed` is well-formed, sealed under the current key and, when an owner is
   * given, bound to an owner (a legacy `v1` value is not current for an owner: rekey it).
   */
  isCurrent(sealed: string, owner?: string): boolean {
    const parts = SecretBox.parse(sealed);
    const version = owner === undefined ? LEGACY : OWNED;
    return parts !== null && parts.keyId === this.currentKeyId && parts.version === version;
  }

  private static parse(sealed: string): SealedParts | null {
    if (typeof sealed !== 'string') {
      return null;
    }
    const parts = sealed.split('.');
    if (parts.length !== 5) {
      return null;
    }
    const [version, keyId, iv, ciphertext, tag] = parts;
    if ((version !== LEGACY && version !== OWNED) || !/^[0-9a-f]{16}$/.test(keyId)) {
      return null;
    }
    if (!B64URL.test(iv) || !B64URL.test(ciphertext) || !B64URL.test(tag)) {
      return null;
    }
    const ivBuf = Buffer.from(iv, 'base64url');
    const tagBuf = Buffer.from(tag, 'base64url');
    if (ivBuf.length !== IV_BYTES || tagBuf.length !== TAG_BYTES) {
      return null;
    }
    return {
      version,
      keyId,
      iv: ivBuf,
      ciphertext: Buffer.from(ciphertext, 'base64url'),
      tag: tagBuf,
    };
  }
}
