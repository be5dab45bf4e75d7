import { createHash, createHmac, randomBytes } from 'node:crypto';
import { constantTimeEqual } from '@app/security';

export const SESSION_COOKIE = '__Host-ledgerline_session';

/** A new session id: 32 random bytes, base64url (43 characters). */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

/** Well-formed ids only: anything else is not looked up at all. */
export function isSessionId(value: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(value);
}

/** What the database keeps of a session id. */
export function sessionHash(id: string): Buffer {
  return createHash('sha256').update(id).digest();
}

/**
 * The session's CSRF token: an HMAC keyed by the session id, so nothing more is stored, it
 * changes with every sign-in, and only the holder of the cookie can know it.
 */
export function csrfToken(sessionId: string): string {
  return createHmac('sha256', sessionId).update('ledgerline-csrf').digest('base64url');
}

export function csrfMatches(sessionId: string, presented: unknown): boolean {
  if (typeof presented !== 'string' || presented.length !== 43) return false;
  return constantTimeEqual(Buffer.from(csrfToken(sessionId)), Buffer.from(presented));
}

/** The value of one cookie from a Cookie header (the first of that name). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(id: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${id}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=Strict`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict`;
}
