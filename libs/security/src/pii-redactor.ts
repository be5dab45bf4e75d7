import { digitValue } from './pii-chars';
import { findCards, isPanNumber } from './pii-cards';
import { scanClusters } from './pii-digits';
import { mayHaveEmail, redactEmails } from './pii-email';
import { findPhonesAndSsns } from './pii-phones';
import { REDACTED_PAN, applyReplacements } from './pii-tokens';

export { REDACTED_EMAIL, REDACTED_PAN, REDACTED_PHONE, REDACTED_SSN } from './pii-tokens';

// Fewer digits than the shortest phone number, SSN or card: nothing but e-mails to look for.
const MIN_DIGITS = 7;
const MIN_LENGTH = 5;

function countDigits(s: string, stopAt: number): number {
  let n = 0;
  for (let i = 0; i < s.length && n < stopAt; i++) {
    if (digitValue(s.charCodeAt(i)) >= 0) n++;
  }
  return n;
}

type Json = unknown;

/**
 * Replaces e-mail addresses, card numbers (Luhn-checked), US SSN-shaped numbers and phone
 * numbers in strings, and deep-copies structured values redacting every string value, object
 * key and card-number-valued number.
 *
 * Every pass is a hand-written left-to-right scan that reads each character a bounded number of
 * times (no backtracking regular expressions), so redaction is linear in the input whatever it
 * holds: an event is never a denial of service for the audit appender.
 */
export class PiiRedactor {
  redactString(s: string): string {
    if (typeof s !== 'string' || s.length < MIN_LENGTH) {
      return s;
    }
    let out = mayHaveEmail(s) ? redactEmails(s) : s;
    if (countDigits(out, MIN_DIGITS) < MIN_DIGITS) {
      return out;
    }
    // Cards first, on their own pass: the phone and SSN pass then sees "[redacted:pan] 123-45-6789"
    // and knows the SSN stands alone.
    out = applyReplacements(out, scanClusters(out, findCards));
    return applyReplacements(out, scanClusters(out, findPhonesAndSsns));
  }

  /**
   * Deep copy of `value` where every string value (at any depth, in objects, arrays, Map values
   * and Set members) is redacted, and so are object keys and string Map keys: a key that holds
   * an e-mail address becomes a key with it replaced, and keys that become equal are kept apart
   * as `key#2`, `key#3`... in key order. A number whose digits are a card number becomes
   * `[redacted:pan]`. `__proto__` keys are copied as own data properties. Booleans, null,
   * undefined and other numbers are returned unchanged; Dates are cloned; other objects that
   * define `toJSON` are redacted in their JSON form; binary data (Buffers, typed arrays) is
   * returned as is.
   */
  redact<T>(value: T): T {
    return this.copy(value, new WeakMap<object, Json>()) as T;
  }

  private copy(value: Json, seen: WeakMap<object, Json>): Json {
    if (typeof value === 'string') {
      return this.redactString(value);
    }
    if (typeof value === 'number' || typeof value === 'bigint') {
      return isPanNumber(value) ? REDACTED_PAN : value;
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
      return this.copyMap(value, seen);
    }
    if (value instanceof Set) {
      const out = new Set<Json>();
      seen.set(value, out);
      for (const v of value) {
        out.add(this.copy(v, seen));
      }
      return out;
    }
    return this.copyObject(value, seen);
  }

  private copyMap(value: Map<Json, Json>, seen: WeakMap<object, Json>): Map<Json, Json> {
    const out = new Map<Json, Json>();
    seen.set(value, out);
    const keys = new KeyAllocator((k) => out.has(k));
    for (const [k, v] of value) {
      out.set(typeof k === 'string' ? keys.allocate(this.redactString(k)) : k, this.copy(v, seen));
    }
    return out;
  }

  private copyObject(value: object, seen: WeakMap<object, Json>): Json {
    const proto: unknown = Object.getPrototypeOf(value);
    const source = value as Record<string, Json>;
    if (proto !== Object.prototype && proto !== null && typeof source.toJSON === 'function') {
      const json: Json = (source.toJSON as () => Json)();
      return this.copy(json, seen);
    }
    const out: Record<string, Json> =
      proto === null ? (Object.create(null) as Record<string, Json>) : {};
    seen.set(value, out);
    // Until a key changes, the keys are the source's own, so unique: no collision to look for.
    let keys: KeyAllocator | undefined;
    for (const key of Object.keys(source)) {
      const copied = this.copy(source[key], seen);
      let name = this.redactString(key);
      if (keys !== undefined || name !== key) {
        keys ??= new KeyAllocator((k) => Object.prototype.hasOwnProperty.call(out, k));
        name = keys.allocate(name);
      }
      if (name === '__proto__') {
        // An own data property, never the prototype setter.
        Object.defineProperty(out, name, {
          value: copied,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        out[name] = copied;
      }
    }
    return out;
  }
}

/**
 * Picks an unused key: `key`, else `key#2`, `key#3`... A counter per key remembers where the last
 * search stopped, so n keys that redact alike cost O(n), not O(n²).
 */
class KeyAllocator {
  private readonly next = new Map<string, number>();

  constructor(private readonly taken: (key: string) => boolean) {}

  allocate(key: string): string {
    if (!this.taken(key)) return key;
    let n = this.next.get(key) ?? 2;
    while (this.taken(`${key}#${n}`)) n++;
    this.next.set(key, n + 1);
    return `${key}#${n}`;
  }
}
