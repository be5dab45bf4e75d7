import fc from 'fast-check';
import { PiiRedactor } from './pii-redactor';

// Seeded property tests. A failure prints its seed and path (fast-check does, and so does the
// test name); replay with FC_SEED=<seed> npx jest ... pii-redactor.property.
const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
const runs = { seed, numRuns: 400 };
const redactor = new PiiRedactor();

const SEPARATORS = [' ', '  ', '-', '.', '\u00a0', '\u202f', '–', '—', ' - '];
const CARDS = ['4111111111111111', '5555555555554444', '378282246310005', '6011000990139424'];

/** A card number grouped in 4s with one separator, as people type them. */
const groupedCard = fc
  .tuple(fc.constantFrom(...CARDS), fc.constantFrom(...SEPARATORS))
  .map(([card, sep]) => (card.match(/.{1,4}/g) ?? []).join(sep));

const email = fc
  .tuple(
    fc.constantFrom('john', 'jöhn', 'a.b+c', 'José', 'x_1'),
    fc.constantFrom('@', '%40', '＠'),
    fc.constantFrom('example.com', 'bücher.de', 'mail.example.co.uk', 'пример.рф'),
  )
  .map((parts) => parts.join(''));

/** Text made of words, numbers, PII and separators: where redaction has to make choices. */
const text = fc
  .array(
    fc.oneof(
      fc.constantFrom(' ', ', ', '; ', '\n', '-', '.', '(', ')', '+', '@', ':', '/'),
      fc.string({ maxLength: 6 }),
      fc.stringMatching(/^[0-9]{1,6}$/),
      fc.integer({ min: 0, max: 99999 }).map(String),
      groupedCard,
      email,
      fc.constantFrom('123-45-6789', '(555) 123-4567', '+44 20 7946 0958', 'x@y.io'),
    ),
    { maxLength: 24 },
  )
  .map((parts) => parts.join(''));

const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.double(),
    fc.constantFrom(4111111111111111, 1200, 1763805600006),
    fc.boolean(),
    fc.constant(null),
    tie('array'),
    tie('object'),
  ),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(fc.oneof(text, fc.constantFrom('__proto__', 'constructor')), tie('value'), {
    maxKeys: 5,
  }),
})).value;

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

/** Every string of a JSON value, keys included. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => strings(v, out));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      strings(v, out);
    }
  }
  return out;
}

/** What redaction promises never to leave: a 13–19 digit Luhn run, an x@y.zz address. */
function leftovers(s: string): string[] {
  const cards = (s.match(/\d+/g) ?? []).filter(
    (run) => run.length >= 13 && run.length <= 19 && luhnValid(run),
  );
  const emails =
    s.match(
      /[A-Za-z0-9._%+-]*[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g,
    ) ?? [];
  return [...cards, ...emails];
}

describe(`PiiRedactor properties (FC_SEED=${seed})`, () => {
  it('never throws, always returns a string, and is idempotent on strings', () => {
    fc.assert(
      fc.property(fc.oneof(text, fc.string({ unit: 'binary', maxLength: 200 })), (s) => {
        const once = redactor.redactString(s);
        expect(typeof once).toBe('string');
        expect(redactor.redactString(once)).toBe(once);
      }),
      runs,
    );
  });

  it('leaves no card number or e-mail address in any string', () => {
    fc.assert(
      fc.property(text, (s) => {
        expect(leftovers(redactor.redactString(s))).toEqual([]);
      }),
      runs,
    );
  });

  it('redacts every grouped card and e-mail wherever it stands', () => {
    fc.assert(
      fc.property(text, fc.oneof(groupedCard, email), text, (before, pii, after) => {
        // The text around may hold the same digits or address: one fewer copy at least.
        const input = `${before} ${pii} ${after}`;
        const copies = (t: string) => t.split(pii).length - 1;
        expect(copies(redactor.redactString(input))).toBeLessThan(copies(input));
      }),
      runs,
    );
  });

  it('keeps the structure of JSON values, redacts keys, and is idempotent', () => {
    fc.assert(
      fc.property(json, (value) => {
        const out = redactor.redact(value);
        const shape = (v: unknown): unknown =>
          Array.isArray(v)
            ? v.map(shape)
            : v !== null && typeof v === 'object'
              ? Object.keys(v).length
              : typeof v === 'number' || typeof v === 'string'
                ? 'scalar'
                : v;
        expect(shape(out)).toEqual(shape(value));
        expect(JSON.stringify(redactor.redact(out))).toBe(JSON.stringify(out));
        expect(strings(out).flatMap(leftovers)).toEqual([]);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      runs,
    );
  });
});
