import type { ErasableEvent, EventEraser } from '@app/events';
import type { Tx } from '@app/platform';
import {
  eraseJson,
  eraseSubject,
  erasureTargets,
  RawEventEraser,
} from './personal-data.repository';

describe('erasure of raw event data', () => {
  const t = erasureTargets(['Ann.Lee@Example.org'], ['+49 151 1234 5678'], ['123', '1 Main St']);

  it('replaces only whole string values; numbers and other text containing the id stay', () => {
    const data = {
      externalId: '123',
      amount: 12345,
      n: 123,
      ref: 'order-1234',
      nested: [{ id: '123' }, 'x123', { key123: true }],
    };
    const out = eraseJson(data, t);
    expect(out).toEqual({
      externalId: '[erased]',
      amount: 12345,
      n: 123,
      ref: 'order-1234',
      nested: [{ id: '[erased]' }, 'x123', { key123: true }],
    });
    expect(JSON.parse(JSON.stringify(out))).toEqual(out);
  });

  it('compares emails case-insensitively (also inside text) and phones by their digits', () => {
    expect(
      eraseJson(
        {
          email: 'ann.lee@example.org',
          note: 'Write to ANN.LEE@EXAMPLE.ORG today',
          phone: '+4915112345678',
          other: '0049-151-99',
          address: ' 1  Main St ',
        },
        t,
      ),
    ).toEqual({
      email: '[erased]',
      note: 'Write to [erased] today',
      phone: '[erased]',
      other: '0049-151-99',
      address: '[erased]',
    });
  });

  it('returns the same object when nothing matched', () => {
    const data = { a: 1, b: ['c'] };
    expect(eraseJson(data, t)).toBe(data);
  });

  it('erases a subject or its last segment, never a part of a segment', () => {
    expect(eraseSubject('customer/123', t)).toBe('customer/[erased]');
    expect(eraseSubject('customer/1234', t)).toBe('customer/1234');
    expect(eraseSubject('customer/ann.lee@example.org/x', t)).toBe('customer/[erased]/x');
  });

  it('asks the events capability for the targets as lower-cased text and digits', async () => {
    const rewriteMentioning = jest.fn(async () => 1);
    const eraser = new RawEventEraser({ rewriteMentioning } as unknown as EventEraser);
    const tx = {} as Tx;
    expect(await eraser.erase(tx, 'tenant', 'contact', t)).toBe(1);
    expect(rewriteMentioning).toHaveBeenCalledWith(
      tx,
      'tenant',
      { text: ['ann.lee@example.org', '123', '1 main st'], digits: ['4915112345678'] },
      expect.any(Function),
    );
    const rewrite = (rewriteMentioning.mock.calls[0] as unknown[])[3] as (
      e: ErasableEvent,
    ) => ErasableEvent;
    expect(rewrite({ data: { id: '123' }, subject: 'customer/123' })).toEqual({
      data: { id: '[erased]' },
      subject: 'customer/[erased]',
    });
    const untouched = { data: { a: 1 }, subject: null };
    const same = rewrite(untouched);
    expect(same.data).toBe(untouched.data);
    expect(same.subject).toBeNull();
  });
});
