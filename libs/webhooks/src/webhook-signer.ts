import { createHmac, createSecretKey, KeyObject, randomBytes } from 'node:crypto';

/** `whsec_` + base64 of 32 random bytes (Standard Webhooks secret format). */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * Standard Webhooks signature: `v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>` keyed with the
 * base64-decoded secret; several secrets (rotation overlap) give space-separated signatures.
 */
export function signatureHeader(
  secrets: string[],
  id: string,
  timestamp: number,
  body: string,
): string {
  return secrets
    .map((secret) => {
      const mac = createHmac('sha256', signingKey(secret))
        .update(`${id}.${timestamp}.${body}`)
        .digest('base64');
      return `v1,${mac}`;
    })
    .join(' ');
}

const KEYS_KEPT = 10000;
// Decoded keys by secret: an endpoint's every attempt signs with the same one. Emptied when full.
const keys = new Map<string, KeyObject>();

function signingKey(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    key = createSecretKey(Buffer.from(secret.replace(/^whsec_/, ''), 'base64'));
    if (keys.size >= KEYS_KEPT) keys.clear();
    keys.set(secret, key);
  }
  return key;
}
