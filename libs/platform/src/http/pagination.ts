import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { DomainError } from './domain-error';
import { UUID_PATTERN } from '../time/clock';

export class PageQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit: number = 50;

  @ApiPropertyOptional({ maxLength: 512, description: "The previous page's nextCursor" })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/** Cursors are opaque base64url JSON; anything that does not decode to the expected shape is a 400. */
export function encodeCursor(value: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T>(
  cursor: string,
  isValid: (v: Record<string, unknown>) => boolean,
): T {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      if (isValid(value as Record<string, unknown>)) return value as T;
    }
  } catch {
    // fall through
  }
  throw DomainError.invalid('cursor', 'cursor is malformed');
}

/** The id in an `{id}` cursor (lists ordered by time-ordered ids), or null on the first page. */
export function decodeIdCursor(cursor: string | undefined): string | null {
  if (cursor === undefined) return null;
  return decodeCursor<{ id: string }>(
    cursor,
    (v) => typeof v.id === 'string' && UUID_PATTERN.test(v.id),
  ).id;
}

/** Builds a page from limit+1 rows: the extra row only says whether there is a next page. */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  map: (r: R) => T,
  cursorOf: (r: R) => string,
): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { data: kept.map(map), nextCursor: more ? cursorOf(kept[kept.length - 1]) : null };
}

/**
 * One page of a list ordered by time-ordered ids: `rowsAfter` reads up to `limit` rows after the
 * cursor's id (null: from the start); it is asked for one row more than the page to learn
 * whether a next page exists. `map` turns a row into what the page shows.
 */
export async function pageById<R extends { id: string }, T = R>(
  q: Pick<PageQuery, 'cursor' | 'limit'>,
  rowsAfter: (afterId: string | null, limit: number) => Promise<R[]>,
  map: (row: R) => T = (row) => row as unknown as T,
): Promise<Page<T>> {
  const rows = await rowsAfter(decodeIdCursor(q.cursor), q.limit + 1);
  return toPage(rows, q.limit, map, (r) => encodeCursor({ id: r.id }));
}
