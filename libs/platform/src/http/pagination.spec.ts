import { DomainError } from './domain-error';
import { encodeCursor, pageById } from './pagination';

describe('pageById', () => {
  const ids = [
    '01900000-0000-7000-8000-000000000001',
    '01900000-0000-7000-8000-000000000002',
    '01900000-0000-7000-8000-000000000003',
  ];
  const rows = ids.map((id, i) => ({ id, n: i }));

  it('reads one row more than the page and names the last kept row in the next cursor', async () => {
    const rowsAfter = jest.fn(async (_afterId: string | null, limit: number) =>
      rows.slice(0, limit),
    );
    const page = await pageById({ limit: 2 }, rowsAfter);
    expect(rowsAfter).toHaveBeenCalledWith(null, 3);
    expect(page).toEqual({ data: rows.slice(0, 2), nextCursor: encodeCursor({ id: ids[1] }) });
  });

  it('continues after the cursor and ends without a next cursor', async () => {
    const rowsAfter = jest.fn(async () => rows.slice(2));
    const page = await pageById({ limit: 2, cursor: encodeCursor({ id: ids[1] }) }, rowsAfter);
    expect(rowsAfter).toHaveBeenCalledWith(ids[1], 3);
    expect(page).toEqual({ data: rows.slice(2), nextCursor: null });
  });

  it('refuses a malformed cursor before reading', async () => {
    const rowsAfter = jest.fn(async () => rows);
    await expect(pageById({ limit: 2, cursor: '@@@' }, rowsAfter)).rejects.toBeInstanceOf(
      DomainError,
    );
    expect(rowsAfter).not.toHaveBeenCalled();
  });
});
