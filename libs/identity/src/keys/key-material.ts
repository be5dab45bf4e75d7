import { Injectable, Logger } from '@nestjs/common';
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  KeyObject,
  randomBytes,
} from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LedgerlineConfig } from '@app/platform';
import { SecretBox } from '@app/security';
import { ServiceKeyRepository } from '../service-key.repository';

const AUDIT_SIGNING = 'audit_signing';

export interface SigningKey {
  privateKey: KeyObject;
  publicKeyPem: string;
}

/**
 * The service's own keys: the master keyring that seals secrets at rest, and the Ed25519 key
 * that signs audit checkpoints. Outside production, missing keys are generated once: the master
 * key in LEDGERLINE_DATA_DIR (shared by every local process), the signing key in the database
 * sealed under the master key, so every process signs with the same key.
 */
@Injectable()
export class KeyMaterial {
  private readonly logger = new Logger(KeyMaterial.name);
  readonly secretBox: SecretBox;
  private signing?: Promise<SigningKey>;

  constructor(
    private readonly config: LedgerlineConfig,
    private readonly serviceKeys: ServiceKeyRepository,
  ) {
    const current = config.LEDGERLINE_MASTER_KEY ?? this.developmentMasterKey();
    this.secretBox = SecretBox.fromBase64(current, config.LEDGERLINE_MASTER_KEY_PREVIOUS);
  }

  signingKey(): Promise<SigningKey> {
    this.signing ??= this.loadSigningKey().catch((err) => {
      this.signing = undefined;
      throw err;
    });
    return this.signing;
  }

  private developmentMasterKey(): string {
    const dir = this.config.LEDGERLINE_DATA_DIR;
    const file = join(dir, 'master.key');
    const existing = readIfPresent(file);
    if (existing !== null) return existing;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Written aside, then linked into place (which fails if the file exists): a process starting
    // alongside sees no key file or a whole one, never one created but not yet written.
    const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(draft, randomBytes(32).toString('base64'), { flag: 'wx', mode: 0o600 });
    try {
      linkSync(draft, file);
      this.logger.warn(`generated a development master key in ${file}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      unlinkSync(draft);
    }
    return readFileSync(file, 'utf8').trim();
  }

  private async loadSigningKey(): Promise<SigningKey> {
    if (this.config.LEDGERLINE_SIGNING_KEY) {
      const privateKey = createPrivateKey(this.config.LEDGERLINE_SIGNING_KEY.replace(/\\n/g, '\n'));
      if (privateKey.asymmetricKeyType !== 'ed25519') {
        throw new Error('LEDGERLINE_SIGNING_KEY must be an Ed25519 private key (PEM)');
      }
      return { privateKey, publicKeyPem: pem(createPublicKey(privateKey)) };
    }
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    await this.serviceKeys.insertIfAbsent({
      purpose: AUDIT_SIGNING,
      sealedPrivateKey: this.secretBox.seal(
        privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      ),
      publicKeyPem: pem(publicKey),
    });
    const stored = await this.openStoredSigningKey();
    if (!stored) throw new Error('the development signing key is missing from service_keys');
    return stored;
  }

  /**
   * The development signing key kept in service_keys, whether or not it is the one signing now,
   * or null when there is none or it does not open. Its public half is derived from the private
   * key, never read from the row: whoever can write the table cannot make it name another key
   * (sealing a private key of their own would need the master key).
   */
  async storedSigningKey(): Promise<SigningKey | null> {
    return this.openStoredSigningKey().catch(() => null);
  }

  private async openStoredSigningKey(): Promise<SigningKey | null> {
    const row = await this.serviceKeys.find(AUDIT_SIGNING);
    if (!row) return null;
    const privateKey = createPrivateKey(this.secretBox.open(row.sealedPrivateKey));
    if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 key');
    return { privateKey, publicKeyPem: pem(createPublicKey(privateKey)) };
  }
}

function pem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

/** The file's trimmed text, or null when there is no such file. */
function readIfPresent(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
