import { randomBytes } from 'node:crypto';

/**
 * `ll_<prefix>_<secret>`: the prefix (12 base62-ish chars) finds the row; only a hash of the
 * whole key is stored, compared in constant time.
 */
const KEY_PATTERN = /^ll_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export function generateApiKey(): { key: string; prefix: string } {
  const prefix = randomBytes(12)
    .toString('base64url')
    .replace(/[^A-Za-z0-9]/g, '')
    .padEnd(12, '0')
    .slice(0, 12);
  const secret = randomBytes(32).toString('base64url');
  return { key: `ll_${prefix}_${secret}`, prefix };
}

export function prefixOf(key: string): string | null {
  const match = KEY_PATTERN.exec(key);
  return match ? match[1] : null;
}
