// Character classes for the PII scanners. Each test looks at one UTF-16 code unit, so a scan
// that calls them once per position stays linear. Non-ASCII answers are cached per code unit.

// Zero of each block of ten decimal digits we read as digits (ASCII first; then Arabic-Indic,
// Devanagari and other Indic scripts, Thai, Lao, Tibetan, Myanmar, Khmer, Mongolian, fullwidth).
const DIGIT_ZEROS = [
  0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66, 0xe50, 0xed0,
  0xf20, 0x1040, 0x17e0, 0x1810, 0xff10,
];

/** Value 0–9 of a decimal digit code unit, or -1. */
export function digitValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c < 0x660) return -1;
  for (const zero of DIGIT_ZEROS) {
    if (c >= zero && c <= zero + 9) return c - zero;
  }
  return -1;
}

/** Spaces that group digits: space, tab, NBSP, narrow NBSP, thin, figure, ideographic... */
export function isSpace(c: number): boolean {
  return (
    c === 0x20 ||
    c === 0x09 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** Hyphens and dashes: '-', U+2010–2015 (hyphen … en and em dash, bar), minus, small/fullwidth. */
export function isDash(c: number): boolean {
  return (
    c === 0x2d ||
    (c >= 0x2010 && c <= 0x2015) ||
    c === 0x2212 ||
    c === 0xfe58 ||
    c === 0xfe63 ||
    c === 0xff0d
  );
}

/** Full stops: '.', and the ideographic and fullwidth ones IDN domains may use. */
export function isDot(c: number): boolean {
  return c === 0x2e || c === 0x3002 || c === 0xff0e || c === 0xff61;
}

const LETTER_OR_DIGIT = /^[\p{L}\p{M}\p{N}]$/u;
// 0: not looked up yet, 1: letter, mark or digit, 2: other.
const wordCache = new Uint8Array(0x10000);

/** A letter, combining mark or digit of any script. Surrogates count: astral letters, emoji. */
export function isAlnum(c: number): boolean {
  if (c < 0x80) {
    return (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 122);
  }
  if (c >= 0xd800 && c <= 0xdfff) return true;
  let known = wordCache[c];
  if (known === 0) {
    known = LETTER_OR_DIGIT.test(String.fromCharCode(c)) ? 1 : 2;
    wordCache[c] = known;
  }
  return known === 1;
}

/** A character that glues a number to a word: letters, digits, marks and '_'. */
export function isWordChar(c: number): boolean {
  return c === 0x5f || isAlnum(c);
}

/** A letter of a top-level domain: any script's letters or marks, not digits. */
export function isTldChar(c: number): boolean {
  return digitValue(c) < 0 && isAlnum(c);
}

export function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 102);
}
