import { digitValue, isDash, isDot, isSpace, isWordChar } from './pii-chars';
import { DigitCluster, separatorKind } from './pii-digits';
import { REDACTED_PAN, REDACTED_PHONE, REDACTED_SSN, Replacement } from './pii-tokens';

const PHONE_MIN_DIGITS = 8;
const PHONE_MAX_DIGITS = 15;
const INTL_MAX_GAP = 2;
const TRUNK_MIN_DIGITS = 9;
const TRUNK_MAX_DIGITS = 11;
const PLUS = 0x2b;
const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;

/** Groups `first..last` of a cluster; the string from `start` to the end of group `last`. */
interface Window {
  last: number;
  start: number;
}

/** A letter, mark or '_': a word character that is not a digit. */
function isLetter(c: number): boolean {
  return isWordChar(c) && digitValue(c) < 0;
}

/**
 * Whether the '+' at `plus` is glued to a word ("a+1...", "x-+1..."). A number before it does not
 * glue ("123-45-6789+44 20 7946 0958" is two numbers), so the same text with that number redacted
 * ("[redacted:ssn]+44...") reads the same.
 */
function plusGlued(s: string, plus: number): boolean {
  const c = s.charCodeAt(plus - 1);
  if (isLetter(c) || c === PLUS) return true;
  return (isDash(c) || isDot(c)) && isLetter(s.charCodeAt(plus - 2));
}

/**
 * Last group of an international number starting with '+' before group 0: the whole run of
 * groups joined by gaps of at most two characters if it has 8–15 digits; if it has more, the
 * longest prefix cut at a space or '(' that does (a number followed by another one). -1 if none. Reads
 * at most 16 groups, whatever the length of the cluster.
 */
function intlEnd(c: DigitCluster): number {
  const plus = c.starts[0] - 1;
  if (c.s.charCodeAt(plus) !== PLUS || plusGlued(c.s, plus)) return -1;
  let total = 0;
  let cut = -1;
  for (let j = 0; j < c.size; j++) {
    total += c.length(j);
    if (total > PHONE_MAX_DIGITS) return cut;
    const more = j + 1 < c.size && c.gapLength(j) <= INTL_MAX_GAP;
    if (!more) return total >= PHONE_MIN_DIGITS ? j : -1;
    const next = c.s.charCodeAt(c.ends[j]);
    if (total >= PHONE_MIN_DIGITS && (isSpace(next) || next === OPEN_PAREN)) cut = j;
  }
  return -1;
}

function sizesAre(c: DigitCluster, first: number, sizes: readonly number[]): boolean {
  if (first + sizes.length > c.size) return false;
  return sizes.every((n, k) => c.length(first + k) === n);
}

/** `(555) ` or `555-`: the area code at `i`, in parentheses or followed by one separator. */
function areaStart(c: DigitCluster, i: number): number {
  const s = c.s;
  const start = c.starts[i];
  if (s.charCodeAt(start - 1) === OPEN_PAREN && s.charCodeAt(c.ends[i]) === CLOSE_PAREN) {
    const len = c.gapLength(i);
    const spaced = len === 2 && isSpace(s.charCodeAt(c.ends[i] + 1));
    return len === 1 || spaced ? start - 1 : -1;
  }
  return c.isSingleSeparator(i) ? start : -1;
}

/** NANP: (555) 123-4567, 555.123.4567, 1-800-555-0199, 1 (800) 555-0199. */
function nanp(c: DigitCluster, i: number): Window | null {
  if (sizesAre(c, i, [1, 3, 3, 4]) && c.firstDigit(i) === 1) {
    const area = areaStart(c, i + 1);
    const joined = area === c.starts[i + 1] ? c.isSingleSeparator(i) : c.gapLength(i) <= 2;
    if (area >= 0 && joined && c.isSingleSeparator(i + 2))
      return { last: i + 3, start: c.starts[i] };
  }
  if (sizesAre(c, i, [3, 3, 4])) {
    const start = areaStart(c, i);
    if (start >= 0 && c.isSingleSeparator(i + 1)) return { last: i + 2, start };
  }
  return null;
}

/** Trunk-prefixed: 020 7946 0958, (020) 7946 0958, 01 23 45 67 89, 07700 900123. */
function trunk(c: DigitCluster, i: number): Window | null {
  const first = c.length(i);
  if (c.firstDigit(i) !== 0 || first < 2 || first > 5) return null;
  const start = areaStart(c, i);
  if (start < 0) return null;
  let total = first;
  let best: Window | null = null;
  for (let j = i + 1; j < c.size && j - i < 5; j++) {
    const n = c.length(j);
    if (n < 2 || n > 6 || (total += n) > TRUNK_MAX_DIGITS) break;
    if (total >= TRUNK_MIN_DIGITS) best = { last: j, start };
    // After the area code, one kind of single separator throughout.
    const joined = c.isSingleSeparator(j) && (j === i + 1 || c.gap(j) === c.gap(i + 1));
    if (j + 1 < c.size && !joined) break;
  }
  return best;
}

/** SSN: 123-45-6789 or 123 45 6789, one kind of separator. */
function ssn(c: DigitCluster, i: number): Window | null {
  if (!sizesAre(c, i, [3, 2, 4])) return null;
  const same = c.gap(i) === c.gap(i + 1) && c.gap(i) !== 'dot';
  return same && c.isSingleSeparator(i) && c.isSingleSeparator(i + 1)
    ? { last: i + 2, start: c.starts[i] }
    : null;
}

const NUMBER_TOKENS = [REDACTED_PAN, REDACTED_SSN, REDACTED_PHONE];

/**
 * Whether a window stands on its own: not glued to a word, and not one of several numbers joined
 * by its own separator ("2026-11-22 555 123 4567" is a list, not a phone number; "123-45-6789
 * 987-65-4321" is two SSNs). A number already redacted still counts as a number, so redacting
 * the output again changes nothing.
 */
function standsAlone(c: DigitCluster, first: number, w: Window): boolean {
  const s = c.s;
  const kind = c.gap(w.last - 1);
  const tight = (at: number, length: number) =>
    length === 1 && separatorKind(s.charCodeAt(at)) === kind;
  const end = c.ends[w.last];
  const left =
    first === 0
      ? !c.gluedLeft(w.start) &&
        !(tight(w.start - 1, 1) && NUMBER_TOKENS.some((t) => s.endsWith(t, w.start - 1)))
      : !tight(c.ends[first - 1], w.start - c.ends[first - 1]);
  const right =
    w.last === c.size - 1
      ? !c.gluedRight(end) &&
        !(tight(end, 1) && NUMBER_TOKENS.some((t) => s.startsWith(t, end + 1)))
      : !tight(end, c.gapLength(w.last));
  return left && right;
}

/**
 * SSNs and phone numbers in a cluster (cards are already gone): an international number after
 * '+', then national shapes tried at each group. Each try reads at most five groups.
 */
export function findPhonesAndSsns(c: DigitCluster, out: Replacement[]): void {
  let i = 0;
  const intl = intlEnd(c);
  if (intl >= 0) {
    out.push({ start: c.starts[0] - 1, end: c.ends[intl], token: REDACTED_PHONE });
    i = intl + 1;
  }
  while (i < c.size) {
    const s = ssn(c, i);
    const w = s ?? nanp(c, i) ?? trunk(c, i);
    if (w !== null && standsAlone(c, i, w)) {
      out.push({ start: w.start, end: c.ends[w.last], token: s ? REDACTED_SSN : REDACTED_PHONE });
      i = w.last + 1;
    } else {
      i++;
    }
  }
}
