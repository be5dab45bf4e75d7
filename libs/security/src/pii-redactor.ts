export const REDACTED_EMAIL = '[redacted:email]';
export const REDACTED_PHONE = '[redacted:phone]';
export const REDACTED_SSN = '[redacted:ssn]';
export const REDACTED_PAN = '[redacted:pan]';

// A digit sequence must stand on its own: not glued to a word character or '+' on the left, nor
// to a word character followed by '-' or '.' (so `ORD-2026-000123`, `INV-1234567` and UUID
// segments never match). Symmetrically on the right.
const LEFT = String.raw`(?<![\p{L}\p{N}_+])(?<![\p{L}\p{N}_][\-.])`;
const RIGHT = String.raw`(?![\p{L}\p{N}_])(?![\-.][\p{L}\p{N}_])`;
// For shapes that may be separated by spaces: no adjacent space-separated number either.
const LEFT_SP = String.raw`(?<!\p{N} )`;
const RIGHT_SP = String.raw`(?! \p{N})`;

// The local part may only start at the beginning of a run of local-part characters, which keeps
// the scan linear on long inputs without '@'.
const EMAIL_RE = new RegExp(
  String.raw`(?<![\p{L}\p{N}_.%+\-])[A-Za-z0-9_%+\-][A-Za-z0-9._%+\-]*@` +
    String.raw`[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,63}(?![\p{L}\p{N}_\-])(?!\.[A-Za-z0-9])`,
  'gu',
);

// A maximal run of digits joined by single spaces or hyphens. `(?=(...))\1` makes the run atomic
// so the engine never retries with a shorter prefix of it.
const PAN_RE = new RegExp(`${LEFT}${LEFT_SP}(?=(\\d+(?:[ \\-]\\d+)*))\\1${RIGHT}`, 'gu');

const SSN_RE = new RegExp(
  `${LEFT}${LEFT_SP}\\d{3}([ \\-])\\d{2}\\1\\d{4}${RIGHT}${RIGHT_SP}`,
  'gu',
);

// International: '+' then digits with optional spaces, hyphens, dots and parentheses (atomic
// maximal run; the digit count is checked in the replacer).
const INTL_PHONE = String.raw`(?=(\+\d(?:[ .\-()]{0,2}\d)*))\1`;
// National: (555) 123-4567, 555-123-4567, 555.123.4567, 555 123 4567, 1-800-555-0199,
// 020 7946 0958, (020) 7946 0958.
const NANP_PHONE = String.raw`(?:1[ .\-])?(?:\(\d{3}\) ?|\d{3}[ .\-])\d{3}[ .\-]\d{4}`;
const TRUNK_PHONE = String.raw`(?:\(0\d{1,4}\) ?|0\d{1,4}[ \-])\d{3,4}[ \-]\d{3,4}`;
const PHONE_RE = new RegExp(
  `${LEFT}(?:${INTL_PHONE}${RIGHT}|${LEFT_SP}(?:${NANP_PHONE}|${TRUNK_PHONE})${RIGHT}${RIGHT_SP})`,
  'gu',
);

const SEPARATORS_RE = /[^0-9]/g;

const MIN_DIGITS = 7;
const PHONE_MIN_DIGITS = 8;
const PHONE_MAX_DIGITS = 15;
const SSN_DIGITS = 9;
const PAN_MIN_DIGITS = 13;
const PAN_MAX_DIGITS = 19;
const MAX_PAN_CHUNKS = 40;

function countDigits(s: string, stopAt: number): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57 && ++n >= stopAt) {
      return n;
    }
  }
  return n;
}

function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) {
        d -= 9;
      }
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

function isPan(digits: string): boolean {
  return digits.length >= PAN_MIN_DIGITS && digits.length <= PAN_MAX_DIGITS && luhnValid(digits);
}

function replacePan(run: string): string {
  if (isPan(run.replace(SEPARATORS_RE, ''))) {
    return REDACTED_PAN;
  }
  if (!run.includes(' ')) {
    return run;
  }
  // A card number may sit next to other space-separated numbers (e.g. a CVV or a reference).
  // Look for windows of whole space-separated groups (of at least 3 digits each) forming a PAN.
  const chunks = run.split(' ');
  if (chunks.length > MAX_PAN_CHUNKS) {
    return run;
  }
  const digits = chunks.map((c) => c.replace(SEPARATORS_RE, ''));
  const out: string[] = [];
  let changed = false;
  let i = 0;
  while (i < chunks.length) {
    let end = -1;
    let total = 0;
    let j = i;
    while (
      j < chunks.length &&
      digits[j].length >= 3 &&
      total + digits[j].length <= PAN_MAX_DIGITS
    ) {
      total += digits[j].length;
      j++;
    }
    for (let k = j; k > i; k--) {
      if (isPan(digits.slice(i, k).join(''))) {
        end = k;
        break;
      }
    }
    if (end > 0) {
      out.push(REDACTED_PAN);
      changed = true;
      i = end;
    } else {
      out.push(chunks[i]);
      i++;
    }
  }
  return changed ? out.join(' ') : run;
}

function replaceIntlPhone(run: string): string {
  const n = countDigits(run, Number.MAX_SAFE_INTEGER);
  if (n < PHONE_MIN_DIGITS) {
    return run;
  }
  if (n <= PHONE_MAX_DIGITS) {
    return REDACTED_PHONE;
  }
  // Too many digits: the number is probably followed by another space-separated number. Keep
  // the longest prefix, cut at a space, that is a plausible phone number.
  for (let k = run.lastIndexOf(' '); k > 0; k = run.lastIndexOf(' ', k - 1)) {
    const head = run.slice(0, k);
    const hn = countDigits(head, Number.MAX_SAFE_INTEGER);
    if (hn < PHONE_MIN_DIGITS) {
      break;
    }
    if (hn <= PHONE_MAX_DIGITS && /\d$/.test(head)) {
      return REDACTED_PHONE + run.slice(k);
    }
  }
  return run;
}

type Json = unknown;

/**
 * Replaces e-mail addresses, card numbers (Luhn-checked), US SSN-shaped numbers and phone
 * numbers in strings, and deep-copies structured values redacting every string value.
 */
export class PiiRedactor {
  redactString(s: string): string {
    if (typeof s !== 'string' || s.length < 5) {
      return s;
    }
    const hasAt = s.includes('@');
    let digits = countDigits(s, PAN_MIN_DIGITS);
    if (!hasAt && digits < MIN_DIGITS) {
      return s;
    }
    let out = s;
    if (hasAt) {
      out = out.replace(EMAIL_RE, REDACTED_EMAIL);
      if (out !== s) {
        digits = countDigits(out, PAN_MIN_DIGITS);
      }
    }
    if (digits >= PAN_MIN_DIGITS) {
      out = out.replace(PAN_RE, replacePan);
    }
    if (digits >= SSN_DIGITS) {
      out = out.replace(SSN_RE, REDACTED_SSN);
    }
    if (digits >= PHONE_MIN_DIGITS) {
      out = out.replace(PHONE_RE, (match: string, intl: string | undefined) =>
        intl === undefined ? REDACTED_PHONE : replaceIntlPhone(match),
      );
    }
    return out;
  }

  /**
   * Deep copy of `value` where every string value (at any depth, in objects, arrays, Map values
   * and Set members) is redacted. Object keys are kept as they are; `__proto__` keys are copied
   * as own data properties. Numbers, booleans, null and undefined are returned unchanged; Dates
   * are cloned; other objects that define `toJSON` are redacted in their JSON form; binary data
   * (Buffers, typed arrays) is returned as is.
   */
  redact<T>(value: T): T {
    return this.copy(value, new WeakMap<object, Json>()) as T;
  }

  private copy(value: Json, seen: WeakMap<object, Json>): Json {
    if (typeof value === 'string') {
      return this.redactString(value);
    }
    if (value === null || typeof value !== 'object') {
      return value;
    }
    const known = seen.get(value);
    if (known !== undefined) {
      return known;
    }
    if (Array.isArray(value)) {
      const out: Json[] = new Array<Json>(value.length);
      seen.set(value, out);
      for (let i = 0; i < value.length; i++) {
        out[i] = this.copy(value[i], seen);
      }
      return out;
    }
    if (value instanceof Date) {
      return new Date(value.getTime());
    }
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
      return value;
    }
    if (value instanceof Map) {
      const out = new Map<Json, Json>();
      seen.set(value, out);
      for (const [k, v] of value) {
        out.set(k, this.copy(v, seen));
      }
      return out;
    }
    if (value instanceof Set) {
      const out = new Set<Json>();
      seen.set(value, out);
      for (const v of value) {
        out.add(this.copy(v, seen));
      }
      return out;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    const source = value as Record<string, Json>;
    if (proto !== Object.prototype && proto !== null && typeof source.toJSON === 'function') {
      const json: Json = (source.toJSON as () => Json)();
      return this.copy(json, seen);
    }
    const out: Record<string, Json> =
      proto === null ? (Object.create(null) as Record<string, Json>) : {};
    seen.set(value, out);
    for (const key of Object.keys(source)) {
      const copied = this.copy(source[key], seen);
      if (key === '__proto__') {
        Object.defineProperty(out, key, {
          value: copied,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        out[key] = copied;
      }
    }
    return out;
  }
}
