import { ValidationOptions, ValidateBy } from 'class-validator';

// RFC 3339: a calendar date, or a date-time with T and an offset (Z or ±hh:mm). Week dates
// (2020-W01), ordinal dates (2020-366), decimal commas and basic format are refused: they pass
// ISO 8601 checks, but neither Date nor every PostgreSQL setting reads them the same way.
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|([+-])(\d{2}):(\d{2})))?$/;

/** Whether the fields name a real day and time (Date would roll 2026-02-30 over to March). */
function isExact(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return false;
  const day = new Date(0);
  day.setUTCFullYear(y, mo - 1, d);
  return day.getUTCMonth() === mo - 1 && day.getUTCDate() === d;
}

/**
 * The one rule for timestamps in requests (bodies and queries alike): an RFC 3339 date or
 * date-time that names a real instant in the years 0001-9999 (UTC), which Date parses exactly.
 */
export function isTimestamp(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 40) return false;
  const m = TIMESTAMP.exec(value);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((v) => Number(v ?? 0));
  if (!isExact(y, mo, d, h, mi, s)) return false;
  if (m[7] && (Number(m[8]) > 23 || Number(m[9]) > 59)) return false;
  // The instant itself too: 9999-12-31T23:00:00-02:00 is in the year 10000.
  const year = new Date(Date.parse(value)).getUTCFullYear();
  return year >= 1 && year <= 9999;
}

export const TIMESTAMP_MESSAGE =
  'must be an RFC 3339 date or date-time (e.g. 2026-11-22T10:00:00Z) in the years 0001-9999';

/** class-validator decorator for isTimestamp. */
export function IsTimestamp(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isTimestamp',
      validator: {
        validate: (value) => isTimestamp(value),
        defaultMessage: (args) => `${args?.property ?? 'value'} ${TIMESTAMP_MESSAGE}`,
      },
    },
    options,
  );
}
