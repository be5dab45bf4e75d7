import { randomBytes } from 'node:crypto';

/** Time, injected so tests can control it. */
export class Clock {
  now(): Date {
    return new Date();
  }
}

/**
 * UUIDv7 ids: time-ordered, so inserts land at the right edge of B-tree indexes. Ids made in the
 * same millisecond are ordered too (RFC 9562 6.2, method 1): the 12 bits after the version are a
 * counter, seeded at random below 2048 each new millisecond and incremented within it; if it
 * overflows, or the wall clock steps back, the timestamp is carried forward instead.
 */
export class IdGenerator {
  // Random bytes fetched 4 KiB at a time: one syscall per 256 ids instead of one per id.
  private pool = Buffer.alloc(0);
  private offset = 0;
  private lastMs = -1;
  private counter = 0;

  next(): string {
    if (this.offset + 16 > this.pool.length) {
      this.pool = randomBytes(4096);
      this.offset = 0;
    }
    const bytes = Buffer.from(this.pool.subarray(this.offset, (this.offset += 16)));
    let ms = Date.now();
    if (ms > this.lastMs) {
      this.counter = ((bytes[6] & 0x07) << 8) | bytes[7];
    } else {
      ms = this.lastMs;
      if (++this.counter > 0xfff) {
        ms++;
        this.counter = 0;
      }
    }
    this.lastMs = ms;
    bytes.writeUIntBE(ms, 0, 6); // 48-bit milliseconds
    bytes[6] = 0x70 | (this.counter >> 8);
    bytes[7] = this.counter & 0xff;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = bytes.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
