import { instantOf, quietUntil } from './quiet-hours';

const Q = { start: '21:00', end: '08:00' };

describe('quietUntil', () => {
  it('is null outside the quiet hours', () => {
    expect(quietUntil(new Date('2026-06-10T10:00:00Z'), 'Europe/Berlin', Q)).toBeNull();
    expect(quietUntil(new Date('2026-06-10T18:59:59Z'), 'Europe/Berlin', Q)).toBeNull(); // 20:59 CEST
  });

  it('ends the quiet hours tomorrow morning when it is late evening', () => {
    // 22:30 CEST on 10 June → 08:00 CEST on 11 June = 06:00Z
    expect(quietUntil(new Date('2026-06-10T20:30:00Z'), 'Europe/Berlin', Q)?.toISOString()).toBe(
      '2026-06-11T06:00:00.000Z',
    );
  });

  it('ends them this morning when it is after midnight', () => {
    // 03:00 in New York (EDT, UTC-4) → 08:00 EDT = 12:00Z the same day
    expect(quietUntil(new Date('2026-06-10T07:00:00Z'), 'America/New_York', Q)?.toISOString()).toBe(
      '2026-06-10T12:00:00.000Z',
    );
  });

  it('crosses the spring daylight-saving change (Berlin, 29 March 2026)', () => {
    // 22:00 CET on 28 March (UTC+1) → 08:00 CEST on 29 March (UTC+2) = 06:00Z, not 07:00Z
    expect(quietUntil(new Date('2026-03-28T21:00:00Z'), 'Europe/Berlin', Q)?.toISOString()).toBe(
      '2026-03-29T06:00:00.000Z',
    );
  });

  it('crosses the autumn change (New York, 1 November 2026)', () => {
    // 23:00 EDT on 31 Oct (UTC-4) → 08:00 EST on 1 Nov (UTC-5) = 13:00Z
    expect(quietUntil(new Date('2026-11-01T03:00:00Z'), 'America/New_York', Q)?.toISOString()).toBe(
      '2026-11-01T13:00:00.000Z',
    );
  });

  it('handles quiet hours that do not wrap midnight, and none at all', () => {
    const day = { start: '12:00', end: '14:00' };
    expect(quietUntil(new Date('2026-06-10T12:30:00Z'), 'UTC', day)?.toISOString()).toBe(
      '2026-06-10T14:00:00.000Z',
    );
    expect(quietUntil(new Date('2026-06-10T14:00:00Z'), 'UTC', day)).toBeNull();
    expect(
      quietUntil(new Date('2026-06-10T12:30:00Z'), 'UTC', { start: '09:00', end: '09:00' }),
    ).toBeNull();
  });

  it('uses zones with half-hour offsets', () => {
    // 23:00 in Kolkata (UTC+5:30) → 08:00 IST next day = 02:30Z
    expect(quietUntil(new Date('2026-06-10T17:30:00Z'), 'Asia/Kolkata', Q)?.toISOString()).toBe(
      '2026-06-11T02:30:00.000Z',
    );
  });
});

describe('instantOf', () => {
  it('shifts a wall time inside the spring-forward gap past the jump', () => {
    // 02:30 does not exist in Berlin on 29 March 2026 (02:00 CET → 03:00 CEST): 03:30 CEST
    expect(
      instantOf({ year: 2026, month: 3, day: 29, minutes: 150 }, 'Europe/Berlin').toISOString(),
    ).toBe('2026-03-29T01:30:00.000Z');
  });

  it('takes the first of a wall time that happens twice', () => {
    // 02:30 happens twice in Berlin on 25 October 2026: first in CEST (00:30Z)
    expect(
      instantOf({ year: 2026, month: 10, day: 25, minutes: 150 }, 'Europe/Berlin').toISOString(),
    ).toBe('2026-10-25T00:30:00.000Z');
  });
});
