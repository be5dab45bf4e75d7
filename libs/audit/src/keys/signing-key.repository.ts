import { Injectable } from '@nestjs/common';
import { Database } from '@app/platform';

/** A row of audit_signing_keys with the endorsements stored for it (not yet checked). */
export interface StoredSigningKey {
  keyId: string;
  publicKey: string;
  firstUsedAt: string;
  endorsements: string[];
}

/**
 * audit_signing_keys: append-only, one row per key that ever signed a checkpoint; and
 * audit_signing_keys_endorsements: append-only, the master-key seals that vouch for them.
 */
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

  /** Appends an endorsement for a listed key (a new row on each master key). */
  async endorse(keyId: string, endorsement: string, at: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO audit_signing_keys_endorsements (key_id, endorsement, endorsed_at)
       VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [keyId, endorsement, at],
    );
  }

  async endorsementsOf(keyId: string): Promise<string[]> {
    const rows = await this.db.query<{ endorsement: string }>(
      `SELECT endorsement FROM audit_signing_keys_endorsements WHERE key_id = $1`,
      [keyId],
    );
    return rows.map((r) => r.endorsement);
  }

  async list(): Promise<StoredSigningKey[]> {
    const rows = await this.db.query<{
      key_id: string;
      public_key_pem: string;
      first_used_at: Date;
      endorsements: string[];
    }>(
      `SELECT k.key_id, k.public_key_pem, k.first_used_at,
              coalesce(array_agg(e.endorsement) FILTER (WHERE e.endorsement IS NOT NULL), '{}') AS endorsements
       FROM audit_signing_keys k LEFT JOIN audit_signing_keys_endorsements e ON e.key_id = k.key_id
       GROUP BY k.key_id ORDER BY k.first_used_at, k.key_id`,
    );
    return rows.map((r) => ({
      keyId: r.key_id,
      publicKey: r.public_key_pem,
      firstUsedAt: r.first_used_at.toISOString(),
      endorsements: r.endorsements,
    }));
  }
}
