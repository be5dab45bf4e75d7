import { QuietHours } from '@app/consent';

interface LocalTime {
  year: number;
  month: number;
  day: number;
  minutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock date and time at `instant` in `timeZone` (Intl's tz database). */
export function localTime(instant: Date, timeZone: string): LocalTime & { seconds: number } {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(instant)) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year,
    month: parts.month,
    day: parts.day,
    minutes: parts.hour * 60 + parts.minute,
    seconds: parts.second,
  };
}

/** The zone's offset from UTC at `instant`, in ms (local minus UTC). */
function offsetAt(instant: number, timeZone: string): number {
  const l = localTime(new Date(instant), timeZone);
  const asUtc = Date.UTC(l.year, l.month - 1, l.day, 0, l.minutes, l.seconds);
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/**
 * The first instant at or after the wall-clock time `minutes` on the given local date in
 * `timeZone`. Across a daylight-saving change the offset differs before and after, so it is
 * tried with both; a wall time that does not exist (the spring-forward gap) is shifted forward
 * by the gap, one that exists twice (autumn) is the first of the two.
 */
export function instantOf(local: LocalTime, timeZone: string): Date {
  const wall = Date.UTC(local.year, local.month - 1, local.day, 0, local.minutes);
  const candidates = new Set<number>();
  for (const probe of [wall - 86400e3, wall, wall + 86400e3]) {
    candidates.add(wall - offsetAt(probe, timeZone));
  }
  const exact = [...candidates]
    .filter((t) => {
      const l = localTime(new Date(t), timeZone);
      return (
        l.year === local.year &&
        l.month === local.month &&
        l.day === local.day &&
        l.minutes === local.minutes
      );
    })
    .sort((a, b) => a - b);
  if (exact.length) return new Date(exact[0]);
  // In a gap the wall time was skipped: read it with the offset from before the jump, which
  // lands as far past the jump as the wall time was (02:30 in a 02:00→03:00 gap is 03:30).
  return new Date(wall - offsetAt(wall - 86400e3, timeZone));
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * When a message held by quiet hours may go: null when `now` is outside them in `timeZone`, else
 * the end of the quiet period (the next `end` wall-clock time), computed in the zone's own
 * calendar so daylight-saving changes move it correctly.
 */
export function quietUntil(now: Date, timeZone: string, quiet: QuietHours): Date | null {
  const start = toMinutes(quiet.start);
  const end = toMinutes(quiet.end);
  if (start === end) return null;
  const l = localTime(now, timeZone);
  const inside =
    start < end ? l.minutes >= start && l.minutes < end : l.minutes >= start || l.minutes < end;
  if (!inside) return null;
  // Wrapping past midnight and still before it: the quiet hours end tomorrow.
  const tomorrow = start > end && l.minutes >= start;
  const date = new Date(Date.UTC(l.year, l.month - 1, l.day + (tomorrow ? 1 : 0)));
  return instantOf(
    {
      year: date.getUTCFullYear(),
      month: date.getUTCMonth() + 1,
      day: date.getUTCDate(),
      minutes: end,
    },
    timeZone,
  );
}
