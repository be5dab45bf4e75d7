import { Injectable } from '@nestjs/common';
import { Database, Tx } from '@app/platform';

/** A key of the service itself (not of a tenant), its private half sealed under the master key. */
export interface ServiceKey {
  purpose: string;
  sealedPrivateKey: string;
  publicKeyPem: string;
}

type ServiceKeyRow = {
  purpose: string;
  sealed_private_key: string;
  public_key_pem: string;
};

const toServiceKey = (r: ServiceKeyRow): ServiceKey => ({
  purpose: r.purpose,
  sealedPrivateKey: r.sealed_private_key,
  publicKeyPem: r.public_key_pem,
});

/** service_keys: one row per purpose (e.g. the development audit signing key). */
@Injectable()
export class ServiceKeyRepository {
  constructor(private readonly db: Database) {}

  /** Stores the key unless one is already there for its purpose (racing processes keep one). */
  async insertIfAbsent(key: ServiceKey): Promise<void> {
    await this.db.query(
      `INSERT INTO service_keys (purpose, sealed_private_key, public_key_pem)
       VALUES ($1, $2, $3) ON CONFLICT (purpose) DO NOTHING`,
      [key.purpose, key.sealedPrivateKey, key.publicKeyPem],
    );
  }

  async find(purpose: string): Promise<ServiceKey | null> {
    const [row] = await this.db.query<ServiceKeyRow>(
      `SELECT purpose, sealed_private_key, public_key_pem FROM service_keys WHERE purpose = $1`,
      [purpose],
    );
    return row ? toServiceKey(row) : null;
  }

  /** Every sealed private key, as rekey counts the stale ones. */
  async sealedKeys(): Promise<string[]> {
    const rows = await this.db.query<{ sealed_private_key: string }>(
      `SELECT sealed_private_key FROM service_keys`,
    );
    return rows.map((r) => r.sealed_private_key);
  }

  /** Every key, locked until the transaction ends, so that one rekey re-seals each once. */
  async lockAll(tx: Tx): Promise<ServiceKey[]> {
    const rows = await tx.query<ServiceKeyRow>(
      `SELECT purpose, sealed_private_key, public_key_pem FROM service_keys FOR UPDATE`,
    );
    return rows.map(toServiceKey);
  }

  async replaceSealed(tx: Tx, purpose: string, sealedPrivateKey: string): Promise<void> {
    await tx.query(`UPDATE service_keys SET sealed_private_key = $2 WHERE purpose = $1`, [
      purpose,
      sealedPrivateKey,
    ]);
  }
}
