import { PiiRedactor } from './pii-redactor';

describe('PiiRedactor', () => {
  const redactor = new PiiRedactor();

  describe('redactString positives', () => {
    it.each([
      ['alice@example.com', '[redacted:email]'],
      ['Contact: Bob.Smith+billing@mail.example.co.uk.', 'Contact: [redacted:email].'],
      ['<first_last-1@sub-domain.example.io>', '<[redacted:email]>'],
      ['a@b.co and c@d.org', '[redacted:email] and [redacted:email]'],
      ['card 4111 1111 1111 1111 exp 12/28', 'card [redacted:pan] exp 12/28'],
      ['4111-1111-1111-1111', '[redacted:pan]'],
      ['5555555555554444', '[redacted:pan]'],
      ['amex 378282246310005.', 'amex [redacted:pan].'],
      ['amex 3782 822463 10005', 'amex [redacted:pan]'],
      ['diners 30569309025904', 'diners [redacted:pan]'],
      ['19 digits 6011 0009 9013 9424 116', '19 digits [redacted:pan]'],
      ['pan=4111111111111111;', 'pan=[redacted:pan];'],
      ['4111 1111 1111 1111 123', '[redacted:pan] 123'],
      ['ssn 123-45-6789', 'ssn [redacted:ssn]'],
      ['SSN: 078 05 1120.', 'SSN: [redacted:ssn].'],
      ['(555) 123-4567', '[redacted:phone]'],
      ['call 555-123-4567 now', 'call [redacted:phone] now'],
      ['555.123.4567', '[redacted:phone]'],
      ['1-800-555-0199', '[redacted:phone]'],
      ['+44 20 7946 0958', '[redacted:phone]'],
      ['tel:+14155552671', 'tel:[redacted:phone]'],
      ['+1 (415) 555-2671', '[redacted:phone]'],
      ['+49.30.1234.5678', '[redacted:phone]'],
      ['(+33 1 23 45 67 89)', '([redacted:phone])'],
      ['020 7946 0958', '[redacted:phone]'],
      [
        'Mail jane@corp.com or ring 555-123-4567; card 4012888888881881, ssn 123-45-6789',
        'Mail [redacted:email] or ring [redacted:phone]; card [redacted:pan], ssn [redacted:ssn]',
      ],
      ['phones: 555-123-4567,555-987-6543', 'phones: [redacted:phone],[redacted:phone]'],
    ])('%j -> %j', (input, expected) => {
      expect(redactor.redactString(input)).toBe(expected);
    });
  });

  describe('redactString near-miss negatives', () => {
    it.each([
      'ORD-2026-000123',
      'INV-1234567',
      'invoice INV-2026-0001234567',
      '2026-11-22',
      '2026-11-22T10:00:00Z',
      '2026-11-22T10:00:00.123Z',
      '123e4567-e89b-12d3-a456-426614174000',
      '12345678-1234-1234-1234-123456789012',
      '1200.50',
      'EUR 1,200.00',
      'USD 1,234,567.89',
      '1.2.3',
      'v10.20.300',
      '1234567812345678',
      '1234 5678 1234 5678',
      '12345678',
      'abc12345678def',
      'user_123456789',
      'order 12345678 shipped',
      'id 123456789012',
      '192.168.100.200',
      'sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      'version 2026.11.22-rc.1',
      'not an email: user@localhost',
      'handle @alice_1234567',
      'ratio 12/34/5678',
      '10:00:00 11:22:33',
      'sku ABC-123-45-6789',
    ])('%j is left alone', (input) => {
      expect(redactor.redactString(input)).toBe(input);
    });
  });

  it('returns short and digit-poor strings untouched (fast path)', () => {
    const s = 'invoice.paid for subject invoice/inv_123';
    expect(redactor.redactString(s)).toBe(s);
    expect(redactor.redactString('')).toBe('');
  });

  it('redacts long inputs correctly, not only quickly', () => {
    const noise = `${'a.'.repeat(50_000)}x ${'1-'.repeat(50_000)} ${'+1 '.repeat(30_000)}`;
    const card = 'card 4111 1111 1111 1111 for jane@corp.com';
    const out = redactor.redactString(`${noise}\n${card}`);
    // The '+1 +1 ...' run is no phone number ('+' glued to '1'); the card and e-mail after it are.
    expect(out).toBe(`${noise}\ncard [redacted:pan] for [redacted:email]`);
    const at = `${'a'.repeat(100_000)}@`;
    expect(redactor.redactString(at)).toBe(at);
    expect(redactor.redactString(`${'a'.repeat(100_000)}@example.com`)).toBe('[redacted:email]');
  });

  describe('redact', () => {
    it('deep-copies objects and arrays, redacting string values, keys and card numbers at any depth', () => {
      const input = {
        email: 'alice@example.com',
        amount: 1200.5,
        paid: true,
        note: null,
        customer: {
          'alice@example.com': 'key is kept',
          contacts: ['555-123-4567', { ssn: '123-45-6789', tags: ['vip', 4111111111111111] }],
        },
        orderId: 'ORD-2026-000123',
      };
      const out = redactor.redact(input);
      expect(out).toEqual({
        email: '[redacted:email]',
        amount: 1200.5,
        paid: true,
        note: null,
        customer: {
          '[redacted:email]': 'key is kept',
          contacts: [
            '[redacted:phone]',
            { ssn: '[redacted:ssn]', tags: ['vip', '[redacted:pan]'] },
          ],
        },
        orderId: 'ORD-2026-000123',
      });
      expect(out).not.toBe(input);
      expect(out.customer).not.toBe(input.customer);
      expect(out.customer.contacts).not.toBe(input.customer.contacts);
      // input untouched
      expect(input.email).toBe('alice@example.com');
      expect(input.customer.contacts[0]).toBe('555-123-4567');
    });

    it('keeps primitives as they are', () => {
      expect(redactor.redact(42)).toBe(42);
      expect(redactor.redact(true)).toBe(true);
      expect(redactor.redact(null)).toBeNull();
      expect(redactor.redact(undefined)).toBeUndefined();
      expect(redactor.redact('bob@example.com')).toBe('[redacted:email]');
      expect(redactor.redact(['x@y.io', 1, false, null])).toEqual([
        '[redacted:email]',
        1,
        false,
        null,
      ]);
    });

    it('copies a __proto__ key as an own data property, never as the prototype', () => {
      const input = JSON.parse(
        '{"__proto__": {"polluted": "yes", "email": "eve@evil.com"}, "ok": "555-123-4567"}',
      ) as Record<string, unknown>;
      const out = redactor.redact(input);
      expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
      expect(Object.prototype.hasOwnProperty.call(out, '__proto__')).toBe(true);
      expect((out as { polluted?: unknown }).polluted).toBeUndefined();
      expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({
        polluted: 'yes',
        email: '[redacted:email]',
      });
      expect(out.ok).toBe('[redacted:phone]');
      expect(JSON.stringify(out)).toBe(
        '{"__proto__":{"polluted":"yes","email":"[redacted:email]"},"ok":"[redacted:phone]"}',
      );
      expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    });

    it('keeps null-prototype objects null-prototype', () => {
      const input = Object.create(null) as Record<string, unknown>;
      input.mail = 'a@b.io';
      const out = redactor.redact(input);
      expect(Object.getPrototypeOf(out)).toBeNull();
      expect(out.mail).toBe('[redacted:email]');
    });

    it('survives cycles and clones dates', () => {
      const input: Record<string, unknown> = { at: new Date('2026-11-22T10:00:00Z') };
      input.self = input;
      const out = redactor.redact(input);
      expect(out.self).toBe(out);
      expect(out.at).toEqual(new Date('2026-11-22T10:00:00Z'));
      expect(out.at).not.toBe(input.at);
    });

    it('redacts Map values and Set members', () => {
      const out = redactor.redact({
        m: new Map([['k', 'a@b.io']]),
        s: new Set(['555-123-4567']),
      });
      expect(out.m.get('k')).toBe('[redacted:email]');
      expect([...out.s]).toEqual(['[redacted:phone]']);
    });
  });
});
