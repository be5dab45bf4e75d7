import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

function toBuffer(input: string | Buffer): Buffer {
  return typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
}

/** SHA-256 of `input` (strings are UTF-8 encoded), as 64 lowercase hex characters. */
export function sha256Hex(input: string | Buffer): string {
  return createHash('sha256').update(toBuffer(input)).digest('hex');
}

/**
 * Compares two secrets in constant time. Both sides are hashed with SHA-256 first, so inputs of
 * different lengths neither throw nor leak their length through timing.
 */
export function constantTimeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const ha = createHash('sha256').update(toBuffer(a)).digest();
  const hb = createHash('sha256').update(toBuffer(b)).digest();
  return timingSafeEqual(ha, hb);
}

/** `bytes` cryptographically random bytes, base64url encoded (no padding). */
export function randomToken(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes <= 0) {
    throw new RangeError(`randomToken: bytes must be a positive integer, got ${bytes}`);
  }
  return randomBytes(bytes).toString('base64url');
}
