import { Injectable } from '@nestjs/common';
import { Periodic } from '@app/platform';
import { IdempotencyKeyRepository } from './idempotency-key.repository';

const BATCH = 5000;

/** Keys are promised for at least 24 h; they are kept 48 h, then purged in small batches. */
@Injectable()
export class IdempotencyKeyPurger {
  constructor(private readonly keys: IdempotencyKeyRepository) {}

  @Periodic('idempotency-purge', 10 * 60 * 1000)
  async purge(): Promise<number> {
    let total = 0;
    for (;;) {
      const purged = await this.keys.purgeExpired(BATCH);
      total += purged;
      if (purged < BATCH) return total;
    }
  }
}
