import { Injectable } from '@nestjs/common';
import { Database, Periodic } from '@app/platform';

/** Keys are promised for at least 24 h; they are kept 48 h, then purged in small batches. */
@Injectable()
export class IdempotencyKeyPurger {
  constructor(private readonly db: Database) {}

  @Periodic('idempotency-purge', 10 * 60 * 1000)
  async purge(): Promise<number> {
    let total = 0;
    for (;;) {
      const rows = await this.db.query(
        `DELETE FROM idempotency_keys WHERE ctid IN (
           SELECT ctid FROM idempotency_keys WHERE created_at < now() - interval '48 hours' LIMIT 5000)
         RETURNING 1`,
      );
      total += rows.length;
      if (rows.length < 5000) return total;
    }
  }
}
