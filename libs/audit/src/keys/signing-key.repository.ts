import { Injectable } from '@nestjs/common';
import { Database } from '@app/platform';

export interface ListedSigningKey {
  keyId: string;
  publicKey: string;
  firstUsedAt: string;
}

/** audit_signing_keys: append-only, one row per key that ever signed a checkpoint. */
@Injectable()
export class SigningKeyRepository {
  constructor(private readonly db: Database) {}

  /** Lists a key once; a key already listed keeps its first use. Needs INSERT only. */
  async add(keyId: string, publicKeyPem: string, firstUsedAt: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO audit_signing_keys (key_id, public_key_pem, first_used_at) VALUES ($1, $2, $3)
       ON CONFLICT (key_id) DO NOTHING`,
      [keyId, publicKeyPem, firstUsedAt],
    );
  }

  async list(): Promise<ListedSigningKey[]> {
    const rows = await this.db.query<{
      key_id: string;
      public_key_pem: string;
      first_used_at: Date;
    }>(
      `SELECT key_id, public_key_pem, first_used_at FROM audit_signing_keys ORDER BY first_used_at, key_id`,
    );
    return rows.map((r) => ({
      keyId: r.key_id,
      publicKey: r.public_key_pem,
      firstUsedAt: r.first_used_at.toISOString(),
    }));
  }
}
