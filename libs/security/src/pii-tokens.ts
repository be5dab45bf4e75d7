export const REDACTED_EMAIL = '[redacted:email]';
export const REDACTED_PHONE = '[redacted:phone]';
export const REDACTED_SSN = '[redacted:ssn]';
export const REDACTED_PAN = '[redacted:pan]';

/** A part of a string to replace: `[start, end)` becomes `token`. */
export interface Replacement {
  start: number;
  end: number;
  token: string;
}

/** Applies replacements given in increasing, non-overlapping order, in one pass. */
export function applyReplacements(s: string, replacements: readonly Replacement[]): string {
  if (replacements.length === 0) return s;
  const parts: string[] = [];
  let at = 0;
  for (const r of replacements) {
    parts.push(s.slice(at, r.start), r.token);
    at = r.end;
  }
  parts.push(s.slice(at));
  return parts.join('');
}
