import { digitValue, isDash, isDot, isHex, isSpace, isWordChar } from './pii-chars';
import { Replacement } from './pii-tokens';

/**
 * How two digit groups are joined: one to three spaces of any kind (NBSP, narrow NBSP, thin...);
 * one hyphen or dash, optionally with a space either side; one full stop; or anything else that
 * still joins (parentheses, mixed).
 */
export type Gap = 'space' | 'dash' | 'dot' | 'other';

const MAX_GAP = 3;
const SMALL = 64;
const LARGE = 4096;

/** The kind of a one-character gap. */
export function separatorKind(c: number): Gap {
  if (isSpace(c)) return 'space';
  if (isDash(c)) return 'dash';
  return isDot(c) ? 'dot' : 'other';
}
const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;

function isJoiner(c: number): boolean {
  return isSpace(c) || isDash(c) || isDot(c) || c === OPEN_PAREN || c === CLOSE_PAREN;
}

function grow(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const bigger = new Int32Array(a.length * 2);
  bigger.set(a);
  return bigger;
}

/**
 * Digit groups (maximal runs of decimal digits of any script, as ASCII digits) joined by short
 * gaps of spaces, dashes, dots or parentheses: the shape every card, SSN and phone number has.
 */
export class DigitCluster {
  // Typed arrays grown by doubling: a cluster can hold millions of groups.
  starts: Int32Array<ArrayBuffer> = new Int32Array(SMALL);
  ends: Int32Array<ArrayBuffer> = new Int32Array(SMALL);
  size = 0;
  s = '';

  /** Starts reading `s`; keeps the arrays unless a huge cluster grew them. */
  reset(s: string): void {
    this.s = s;
    this.size = 0;
    if (this.starts.length > LARGE) {
      this.starts = new Int32Array(SMALL);
      this.ends = new Int32Array(SMALL);
    }
  }

  add(start: number, end: number): void {
    if (this.size === this.starts.length) {
      this.starts = grow(this.starts);
      this.ends = grow(this.ends);
    }
    this.starts[this.size] = start;
    this.ends[this.size] = end;
    this.size++;
  }

  /** How many digits group `i` has (every digit we read is one UTF-16 code unit). */
  length(i: number): number {
    return this.ends[i] - this.starts[i];
  }

  /** Value of the first digit of group `i`. */
  firstDigit(i: number): number {
    return digitValue(this.s.charCodeAt(this.starts[i]));
  }

  /** Length of the gap after group `i`. */
  gapLength(i: number): number {
    return this.starts[i + 1] - this.ends[i];
  }

  /** The kind of the gap after group `i`. */
  gap(i: number): Gap {
    const s = this.s;
    let a = this.ends[i];
    let b = this.starts[i + 1];
    const first = s.charCodeAt(a);
    if (b - a === 1 && isDot(first)) return 'dot';
    while (a < b && isSpace(s.charCodeAt(a))) a++;
    if (a === b) return 'space';
    while (b > a && isSpace(s.charCodeAt(b - 1))) b--;
    return b - a === 1 && isDash(s.charCodeAt(a)) ? 'dash' : 'other';
  }

  /** Whether the gap after group `i` is exactly one space, dash or dot. */
  isSingleSeparator(i: number): boolean {
    const c = this.s.charCodeAt(this.ends[i]);
    return this.gapLength(i) === 1 && (isSpace(c) || isDash(c) || isDot(c));
  }

  /** Whether a number starting at `at` is glued to a word on its left (`ORD-2026`, `x7`, `+`). */
  gluedLeft(at: number): boolean {
    const c = this.s.charCodeAt(at - 1);
    if (isWordChar(c) || c === 0x2b) return true;
    return (isDash(c) || isDot(c)) && isWordChar(this.s.charCodeAt(at - 2));
  }

  /** Whether a number ending at `at` is glued to a word on its right (`123x`, `123-A`). */
  gluedRight(at: number): boolean {
    const c = this.s.charCodeAt(at);
    if (isWordChar(c)) return true;
    return (isDash(c) || isDot(c)) && isWordChar(this.s.charCodeAt(at + 1));
  }
}

// UUIDs are ids, never PII: their digit groups are not read as numbers. Found from their first
// dash (located by the native indexOf), each check reading at most 36 characters.
function isHexRun(s: string, from: number, to: number): boolean {
  if (from < 0 || to > s.length) return false;
  for (let i = from; i < to; i++) {
    if (!isHex(s.charCodeAt(i))) return false;
  }
  return true;
}

function isUuidAt(s: string, dash: number): boolean {
  const start = dash - 8;
  return (
    isHexRun(s, start, dash) &&
    [13, 18, 23].every((d) => s.charCodeAt(start + d) === 0x2d) &&
    isHexRun(s, start + 9, start + 13) &&
    isHexRun(s, start + 14, start + 18) &&
    isHexRun(s, start + 19, start + 23) &&
    isHexRun(s, start + 24, start + 36)
  );
}

/** Start and end of every UUID in `s`, in order, flattened. */
const shared = new DigitCluster();

function uuidSpans(s: string): number[] {
  const spans: number[] = [];
  let dash = s.length >= 36 ? s.indexOf('-', 8) : -1;
  while (dash >= 0) {
    if (isUuidAt(s, dash)) {
      spans.push(dash - 8, dash + 28);
      dash = s.indexOf('-', dash + 28);
    } else {
      dash = s.indexOf('-', dash + 1);
    }
  }
  return spans;
}

/** End of the run of digits starting at `i`. */
function groupEnd(s: string, i: number): number {
  let j = i;
  while (j < s.length && digitValue(s.charCodeAt(j)) >= 0) j++;
  return j;
}

/** Start of the next group if the gap after `end` is short and made of joiners, else -1. */
function nextGroupStart(s: string, end: number): number {
  let j = end;
  while (j < s.length && j - end < MAX_GAP && isJoiner(s.charCodeAt(j))) j++;
  return j > end && j < s.length && digitValue(s.charCodeAt(j)) >= 0 ? j : -1;
}

/**
 * Calls `handle` once per cluster of `s`, left to right, and returns the replacements it asked
 * for (each handler pushes them in order, inside its cluster). Every character is read a bounded
 * number of times: groups once, gaps at most twice, UUID candidates at most 36 times per dash.
 */
export function scanClusters(
  s: string,
  handle: (cluster: DigitCluster, out: Replacement[]) => void,
): Replacement[] {
  const out: Replacement[] = [];
  const uuids = uuidSpans(s);
  let u = 0;
  // One cluster for every scan (scans are synchronous and never nested): allocating its arrays
  // per string cost more than the scan of a short string.
  const cluster = shared;
  cluster.reset(s);
  let i = 0;
  while (i < s.length) {
    while (u < uuids.length && uuids[u + 1] <= i) u += 2;
    if (u < uuids.length && uuids[u] <= i) {
      i = uuids[u + 1];
      continue;
    }
    if (digitValue(s.charCodeAt(i)) < 0) {
      i++;
      continue;
    }
    const stop = u < uuids.length ? uuids[u] : s.length;
    cluster.size = 0;
    for (let start = i; start >= 0 && start < stop; start = nextGroupStart(s, i)) {
      i = groupEnd(s, start);
      cluster.add(start, i);
    }
    handle(cluster, out);
  }
  cluster.reset('');
  return out;
}
