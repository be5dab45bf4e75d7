import { isAlnum, isDot, isHex, isTldChar } from './pii-chars';
import { REDACTED_EMAIL, Replacement, applyReplacements } from './pii-tokens';

/**
 * Length of the '@' at `i`, 0 if none: '@', its fullwidth and small forms, or '%40' (percent-
 * encoded, as in URLs and form bodies).
 */
function atLength(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === 0x40 || c === 0xff20 || c === 0xfe6b) return 1;
  return c === 0x25 && s.charCodeAt(i + 1) === 0x34 && s.charCodeAt(i + 2) === 0x30 ? 3 : 0;
}

// ASCII punctuation allowed in a local part besides letters and digits (RFC 5322 atext, minus
// characters that more often delimit a value than belong to an address: = ? & / | { } `).
const LOCAL_PUNCTUATION = new Set([...".!#$%'*+-^_~"].map((ch) => ch.charCodeAt(0)));

function isLocalChar(c: number): boolean {
  return isAlnum(c) || LOCAL_PUNCTUATION.has(c);
}

/** Where the local part ending at `at` begins (`at` if none); never before `floor`. */
function localStart(s: string, at: number, floor: number): number {
  let i = at;
  while (i > floor && isLocalChar(s.charCodeAt(i - 1))) i--;
  // A local part does not begin with '.', and a leading quote is punctuation around it.
  while (i < at && (s.charCodeAt(i) === 0x2e || s.charCodeAt(i) === 0x27)) i++;
  return i;
}

/** A percent-escape inside a domain (`%C3%BC`), but not `%40`, which starts another address. */
function isEscape(s: string, i: number): boolean {
  return (
    s.charCodeAt(i) === 0x25 &&
    isHex(s.charCodeAt(i + 1)) &&
    isHex(s.charCodeAt(i + 2)) &&
    !(s.charCodeAt(i + 1) === 0x34 && s.charCodeAt(i + 2) === 0x30)
  );
}

function isPunycode(s: string, start: number, end: number): boolean {
  return end - start > 4 && s.slice(start, start + 4).toLowerCase() === 'xn--';
}

/**
 * End of the longest domain starting at `from` whose last label is a top-level domain (two or
 * more letters of any script, or punycode), with at least two labels; -1 if there is none. A
 * label that starts with such letters ends a domain there too (`x@y.io0`, `a@b.com-x`), so what
 * follows an address never hides it. Stops at the first character that cannot be in a domain,
 * so scans from successive '@'s never overlap.
 */
function domainEnd(s: string, from: number): number {
  let i = from;
  let labels = 0;
  let best = -1;
  for (;;) {
    const start = i;
    let letters = -1; // end of the letters the label starts with, once they stop
    while (i < s.length) {
      const c = s.charCodeAt(i);
      const tld = isTldChar(c);
      if (!tld && letters < 0) letters = i;
      if (tld || isAlnum(c) || c === 0x2d) i++;
      else if (isEscape(s, i)) i += 3;
      else break;
    }
    if (letters < 0) letters = i;
    if (i === start) return best;
    labels++;
    if (labels >= 2 && isPunycode(s, start, i)) best = i;
    else if (labels >= 2 && letters - start >= 2) best = letters;
    if (i >= s.length || !isDot(s.charCodeAt(i))) return best;
    i++;
  }
}

/**
 * Replaces e-mail addresses, Unicode and IDN ones included, in one left-to-right pass: each
 * character is read at most once going left (from an '@' back to the previous one) and once
 * going right (from an '@' to the end of its domain).
 */
export function redactEmails(s: string): string {
  const found: Replacement[] = [];
  let floor = 0;
  for (let at = 0; at < s.length; at++) {
    const length = atLength(s, at);
    if (length === 0) continue;
    const start = localStart(s, at, floor);
    const end = start < at ? domainEnd(s, at + length) : -1;
    if (end > 0) {
      found.push({ start, end, token: REDACTED_EMAIL });
      floor = end;
      at = end - 1;
    } else {
      floor = at + length;
      at = floor - 1;
    }
  }
  return applyReplacements(s, found);
}

/** Whether `s` may contain an address at all (cheap native searches). */
export function mayHaveEmail(s: string): boolean {
  return s.includes('@') || s.includes('%40') || s.includes('\uff20') || s.includes('\ufe6b');
}
