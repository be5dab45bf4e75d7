import { Injectable } from '@nestjs/common';
import { Database } from '@app/platform';
import { KeyMaterial } from '@app/identity';

const PAGE = 500;

/**
 * Re-encrypts every sealed secret that is not under the current master key: endpoint secrets and
 * the service's own sealed keys (service_keys, e.g. the audit signing key).
 */
@Injectable()
export class SecretRekeyer {
  constructor(
    private readonly db: Database,
    private readonly keys: KeyMaterial,
  ) {}

  async countStale(): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM webhook_endpoints
       WHERE secret_key_id <> $1 OR (previous_secret_sealed IS NOT NULL AND previous_secret_key_id <> $1)`,
      [this.keys.secretBox.currentKeyId],
    );
    const serviceKeys = await this.db.query<{ sealed_private_key: string }>(
      `SELECT sealed_private_key FROM service_keys`,
    );
    return (
      row.n + serviceKeys.filter((k) => !this.keys.secretBox.isCurrent(k.sealed_private_key)).length
    );
  }

  async rekey(onProgress?: (done: number) => void): Promise<number> {
    const box = this.keys.secretBox;
    let done = await this.rekeyServiceKeys();
    for (;;) {
      const n = await this.db.transaction(async (tx) => {
        const rows = await tx.query<{
          tenant_id: string;
          id: string;
          secret_sealed: string;
          previous_secret_sealed: string | null;
        }>(
          `SELECT tenant_id, id, secret_sealed, previous_secret_sealed FROM webhook_endpoints
           WHERE secret_key_id <> $1 OR (previous_secret_sealed IS NOT NULL AND previous_secret_key_id <> $1)
           LIMIT $2 FOR UPDATE`,
          [box.currentKeyId, PAGE],
        );
        for (const r of rows) {
          await tx.query(
            `UPDATE webhook_endpoints SET secret_sealed = $3, secret_key_id = $5,
                    previous_secret_sealed = $4, previous_secret_key_id = CASE WHEN $4::text IS NULL THEN NULL ELSE $5 END
             WHERE tenant_id = $1 AND id = $2`,
            [
              r.tenant_id,
              r.id,
              box.seal(box.open(r.secret_sealed)),
              r.previous_secret_sealed && box.seal(box.open(r.previous_secret_sealed)),
              box.currentKeyId,
            ],
          );
        }
        return rows.length;
      });
      done += n;
      onProgress?.(done);
      if (n < PAGE) return done;
    }
  }

  /**
   * The service's own keys are sealed under the master key too: left alone, they could not be
   * opened once LEDGERLINE_MASTER_KEY_PREVIOUS is dropped.
   */
  private async rekeyServiceKeys(): Promise<number> {
    const box = this.keys.secretBox;
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<{ purpose: string; sealed_private_key: string }>(
        `SELECT purpose, sealed_private_key FROM service_keys FOR UPDATE`,
      );
      const stale = rows.filter((r) => !box.isCurrent(r.sealed_private_key));
      for (const r of stale) {
        await tx.query(`UPDATE service_keys SET sealed_private_key = $2 WHERE purpose = $1`, [
          r.purpose,
          box.seal(box.open(r.sealed_private_key)),
        ]);
      }
      return stale.length;
    });
  }
}
