import { Injectable } from '@nestjs/common';
import { Database } from '@app/platform';
import { KeyMaterial } from '@app/identity';

const PAGE = 500;

/** Re-encrypts every sealed secret that is not under the current master key. */
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
    return row.n;
  }

  async rekey(onProgress?: (done: number) => void): Promise<number> {
    const box = this.keys.secretBox;
    let done = 0;
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
           LIMIT $2 FOR UPDATE SKIP LOCKED`,
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
}
