import { PiiRedactor } from './pii-redactor';

// What must never reach the audit chain, in the shapes it arrives in (issue 14, item 10: each
// of these reached the chain before), and what must stay readable there.
const redactor = new PiiRedactor();

describe('PII corpus: redacted', () => {
  it.each([
    // E-mails: non-ASCII local parts, IDN domains, percent-encoded and fullwidth '@'.
    ['jöhn@example.com', '[redacted:email]'],
    ['user@bücher.de', '[redacted:email]'],
    ['José.Núñez@correo.es', '[redacted:email]'],
    ['пользователь@пример.рф', '[redacted:email]'],
    ['用户@例子.广告', '[redacted:email]'],
    ['user@xn--bcher-kva.de', '[redacted:email]'],
    ['john%40example.com', '[redacted:email]'],
    ['/unsubscribe?email=john%40example.com&x=1', '/unsubscribe?email=[redacted:email]&x=1'],
    ['j%C3%B6hn%40b%C3%BCcher.de', '[redacted:email]'],
    ['john＠example.com', '[redacted:email]'],
    ["o'brien@example.ie", '[redacted:email]'],
    ["'john@example.com'", "'[redacted:email]'"],
    ['mailto:john@example.com?subject=hi', 'mailto:[redacted:email]?subject=hi'],
    ['john@example.com.', '[redacted:email].'],
    ['john@example.com.1234', '[redacted:email].1234'],
    ['JOHN@EXAMPLE.COM', '[redacted:email]'],
    // Cards: every grouping, then trailing and leading numbers.
    ['4111 1111 1111 1111', '[redacted:pan]'],
    ['4111\u00a01111\u00a01111\u00a01111', '[redacted:pan]'],
    ['4111\u202f1111\u202f1111\u202f1111', '[redacted:pan]'],
    ['4111  1111  1111  1111', '[redacted:pan]'],
    ['4111–1111–1111–1111', '[redacted:pan]'],
    ['4111—1111—1111—1111', '[redacted:pan]'],
    ['4111 - 1111 - 1111 - 1111', '[redacted:pan]'],
    ['4111.1111.1111.1111', '[redacted:pan]'],
    ['4111111111111111-01', '[redacted:pan]-01'],
    ['4111-1111-1111-1111-01', '[redacted:pan]-01'],
    ['card ４１１１１１１１１１１１１１１１', 'card [redacted:pan]'],
    [
      `${Array.from({ length: 45 }, (_, i) => i + 1).join(' ')} 4111 1111 1111 1111`,
      `${Array.from({ length: 45 }, (_, i) => i + 1).join(' ')} [redacted:pan]`,
    ],
    ['INV-4111111111111111', 'INV-[redacted:pan]'],
    ['cc4111111111111111', 'cc[redacted:pan]'],
    ['4111 1111 1111 1111 123-45-6789', '[redacted:pan] [redacted:ssn]'],
    ['3782 822463 10005', '[redacted:pan]'],
    ['6011 0009 9013 9424 116', '[redacted:pan]'],
    // SSNs.
    ['123-45-6789', '[redacted:ssn]'],
    ['123–45–6789', '[redacted:ssn]'],
    ['123\u00a045\u00a06789', '[redacted:ssn]'],
    ['123-45-6789 987-65-4321', '[redacted:ssn] [redacted:ssn]'],
    // Phones.
    ['+1 (415) 555-2671', '[redacted:phone]'],
    ['+44\u00a020\u00a07946\u00a00958', '[redacted:phone]'],
    ['+33 1 23 45 67 89', '[redacted:phone]'],
    ['555–123–4567', '[redacted:phone]'],
    ['1 (800) 555-0199', '[redacted:phone]'],
    ['01 23 45 67 89', '[redacted:phone]'],
    ['07700 900123', '[redacted:phone]'],
    ['call 555-123-4567 - 3pm', 'call [redacted:phone] - 3pm'],
  ])('%j -> %j', (input, expected) => {
    expect(redactor.redactString(input)).toBe(expected);
  });
});

describe('PII corpus: left alone', () => {
  it.each([
    '2026-11-22T10:00:00.123Z',
    '2026-11-22 10:00:00',
    '20261122T100000Z',
    '123e4567-e89b-12d3-a456-426614174000',
    '12345678-1234-1234-1234-123456789012',
    '01234567-0123-0123-0123-012345678901',
    'abcdef01-0123-4567-89ab-0123456789ab',
    '1200',
    '1200.50',
    'EUR 1 200,00',
    'amounts 1200.00 3400.50 1234.99',
    '1.2.3',
    'v10.20.300',
    '2.0.0-rc.1+build.20261122',
    'inv_123',
    'ORD-2026-000123',
    'invoice INV-2026-0001234567',
    'user@localhost',
    '@alice',
    'npm install left-pad@1.3.0',
    'git@github',
    '192.168.100.200',
    '10.0.0.1:5432',
    'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    '2026-11-22 555 123 4567',
    'page 1 of 12',
    '1111 1111 1111 1111',
  ])('%j', (input) => {
    expect(redactor.redactString(input)).toBe(input);
  });
});

describe('PII corpus: keys and numbers', () => {
  it('redacts e-mails and cards in keys, keeping colliding keys apart in key order', () => {
    const out = redactor.redact({
      'a@b.io': 1,
      'c@d.io': 2,
      '[redacted:email]#3': 3,
      'e@f.io': 4,
      'card 4111 1111 1111 1111': 5,
      plain: 6,
    });
    expect(JSON.stringify(out)).toBe(
      '{"[redacted:email]":1,"[redacted:email]#2":2,"[redacted:email]#3":3,' +
        '"[redacted:email]#4":4,"card [redacted:pan]":5,"plain":6}',
    );
  });

  it('redacts keys at any depth, in arrays and Maps', () => {
    const out = redactor.redact({ list: [{ 'x@y.io': { 'jöhn@bücher.de': true } }] });
    expect(out).toEqual({ list: [{ '[redacted:email]': { '[redacted:email]': true } }] });
    const map = redactor.redact(
      new Map<unknown, string>([
        ['a@b.io', 'v'],
        [1, 'w'],
      ]),
    );
    expect([...map.entries()]).toEqual([
      ['[redacted:email]', 'v'],
      [1, 'w'],
    ]);
  });

  it('never turns a key into a prototype setter', () => {
    const input = JSON.parse('{"__proto__": {"x@y.io": 1}, "constructor": "a@b.io"}') as object;
    const out = redactor.redact(input);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(JSON.stringify(out)).toBe(
      '{"__proto__":{"[redacted:email]":1},"constructor":"[redacted:email]"}',
    );
    expect(({} as Record<string, unknown>)['[redacted:email]']).toBeUndefined();
  });

  it.each([
    [4111111111111111, '[redacted:pan]'],
    [-4111111111111111, '[redacted:pan]'],
    [378282246310005, '[redacted:pan]'],
    [5555555555554444, '[redacted:pan]'],
    [1200, 1200],
    [1200.5, 1200.5],
    [4111111111111112, 4111111111111112],
    // Epoch milliseconds, microseconds: not cards, even when their digits pass Luhn.
    [1763805600006, 1763805600006],
    [1763805600000001, 1763805600000001],
    [123456789, 123456789],
    [4155552671, 4155552671],
  ])('number %p -> %p', (input, expected) => {
    expect(redactor.redact({ n: input })).toEqual({ n: expected });
  });
});
