import { isTimestamp } from './timestamp';

describe('isTimestamp, the one rule for timestamps in requests', () => {
  it.each([
    '2026-11-22T10:00:00Z',
    '2026-11-22T10:00:00.123Z',
    '2026-11-22T10:00:00.123456789+01:00',
    '2026-11-22T10:00:00-05:30',
    '2026-11-22',
    '2024-02-29T00:00:00Z',
    '0001-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
  ])('accepts %s', (value) => {
    expect(isTimestamp(value)).toBe(true);
  });

  it.each([
    ['a week date', '2020-W01'],
    ['a week date with day', '2020-W01-1'],
    ['an ordinal date', '2020-366'],
    ['a decimal comma', '2020-01-01T10:00,5Z'],
    ['basic format', '20200101T100000Z'],
    ['no offset', '2026-11-22T10:00:00'],
    ['a space separator', '2026-11-22 10:00:00Z'],
    ['30 February', '2026-02-30T00:00:00Z'],
    ['29 February of a common year', '2025-02-29'],
    ['hour 24', '2026-11-22T24:00:00Z'],
    ['a leap second', '2026-12-31T23:59:60Z'],
    ['offset hour 24', '2026-11-22T10:00:00+24:00'],
    ['the year 0000', '0000-01-01T00:00:00Z'],
    ['past 9999 in UTC', '9999-12-31T23:00:00-02:00'],
    ['before 0001 in UTC', '0001-01-01T00:00:00+01:00'],
    ['a five-digit year', '+10000-01-01T00:00:00Z'],
    ['words', 'yesterday'],
    ['a number', 12345],
    ['an array', ['2026-11-22']],
    ['hostile length', `2026-11-22T10:00:00.${'1'.repeat(100000)}Z`],
  ])('refuses %s', (_, value) => {
    expect(isTimestamp(value)).toBe(false);
  });

  it('accepts only what Date reads as the same instant', () => {
    for (const value of ['2026-11-22T10:00:00.5+02:00', '2026-11-22']) {
      expect(isTimestamp(value)).toBe(true);
      expect(Number.isFinite(Date.parse(value))).toBe(true);
    }
  });
});
