import { digitValue } from './pii-chars';
import { DigitCluster, Gap } from './pii-digits';
import { REDACTED_PAN, Replacement } from './pii-tokens';

export const PAN_MIN_DIGITS = 13;
export const PAN_MAX_DIGITS = 19;
// Groups of a grouped card number: 4-4-4-4, 4-6-5 (Amex), 4-6-4 (Diners), 4-4-4-4-3...
const GROUP_MIN = 3;
const GROUP_MAX = 8;

/** Luhn check of the digits of `s` in `[from, to)`, read from the right (`digit` maps them). */
function luhnOf(s: string, from: number, to: number, digit: (c: number) => number): number {
  let sum = 0;
  let double = false;
  for (let i = to - 1; i >= from; i--) {
    const c = s.charCodeAt(i);
    let d = digit(c);
    if (d < 0) continue;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum;
}

export function luhnValid(digits: string): boolean {
  return luhnOf(digits, 0, digits.length, (c) => c - 48) % 10 === 0;
}

export function isPan(digits: string): boolean {
  return digits.length >= PAN_MIN_DIGITS && digits.length <= PAN_MAX_DIGITS && luhnValid(digits);
}

function groupable(c: DigitCluster, i: number): boolean {
  const n = c.length(i);
  return n >= GROUP_MIN && n <= GROUP_MAX;
}

/** Luhn check of the digits of groups `first..last` (separators between them skipped). */
function windowPasses(c: DigitCluster, first: number, last: number): boolean {
  return luhnOf(c.s, c.starts[first], c.ends[last], digitValue) % 10 === 0;
}

/**
 * Last group of the longest card number made of whole groups from `first` on, joined by one kind
 * of gap (spaces, dashes or dots), or -1. At most six groups fit in 19 digits, so this is O(1).
 */
function groupedPanEnd(c: DigitCluster, first: number): number {
  if (!groupable(c, first)) return -1;
  let digits = c.length(first);
  let kind: Gap | undefined;
  let best = -1;
  for (let j = first + 1; j < c.size && groupable(c, j); j++) {
    const gap = c.gap(j - 1);
    if (gap === 'other' || (kind !== undefined && gap !== kind)) break;
    kind = gap;
    digits += c.length(j);
    if (digits > PAN_MAX_DIGITS) break;
    if (digits >= PAN_MIN_DIGITS && windowPasses(c, first, j)) best = j;
  }
  return best;
}

/**
 * Card numbers in a cluster: a run of 13–19 digits passing Luhn wherever it stands (`-01` after
 * it, or a word before it, does not hide it), or whole groups of 3–8 digits joined by one kind of
 * gap whose digits pass. A cluster is read group by group, so a card after any number of other
 * numbers is found.
 */
export function findCards(c: DigitCluster, out: Replacement[]): void {
  let i = 0;
  while (i < c.size) {
    const n = c.length(i);
    if (n >= PAN_MIN_DIGITS && n <= PAN_MAX_DIGITS && windowPasses(c, i, i)) {
      out.push({ start: c.starts[i], end: c.ends[i], token: REDACTED_PAN });
      i++;
      continue;
    }
    const last = groupedPanEnd(c, i);
    if (last >= 0) {
      out.push({ start: c.starts[i], end: c.ends[last], token: REDACTED_PAN });
      i = last + 1;
    } else {
      i++;
    }
  }
}

/**
 * Whether a JSON number is a card number written as a number. Numbers whose digits start with 1
 * are left alone: those are epoch timestamps (ms, µs, ns) far more often than airline cards.
 */
export function isPanNumber(n: number | bigint): boolean {
  if (typeof n === 'number' && (!Number.isInteger(n) || Math.abs(n) >= 1e21)) return false;
  const digits = String(n < 0 ? -n : n);
  return digits.charCodeAt(0) !== 0x31 && isPan(digits);
}
