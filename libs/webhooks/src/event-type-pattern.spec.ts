import { EVENT_TYPE_PATTERN, matchesEventType } from './event-type-pattern';

describe('matchesEventType', () => {
  it.each([
    [['*'], 'invoice.paid', true],
    [['invoice.*'], 'invoice.paid', true],
    [['invoice.*'], 'invoice.line.added', true],
    [['invoice.*'], 'invoices.paid', false],
    [['invoice.*'], 'invoice', false],
    [['invoice.paid'], 'invoice.paid', true],
    [['invoice.paid'], 'invoice.paid_late', false],
    [['user.created', 'webhook.*'], 'webhook.endpoint.disabled', true],
    [[], 'a.b', false],
  ])('%j matches %s: %s', (patterns, type, expected) => {
    expect(matchesEventType(patterns, type)).toBe(expected);
  });

  it('accepts only exact, prefix.* and * patterns', () => {
    for (const ok of ['*', 'invoice.*', 'invoice.paid', 'a.b.c', 'a.*'])
      expect(EVENT_TYPE_PATTERN.test(ok)).toBe(true);
    for (const bad of ['', '**', 'invoice*', '*.paid', 'Invoice.paid', 'a..b', 'a.*.b', ' a.b']) {
      expect(EVENT_TYPE_PATTERN.test(bad)).toBe(false);
    }
  });
});
