import { createValidationPipe } from '@app/platform';
import { PublishEventBatchDto, PublishEventDto } from './publish-event.dto';
import { isPlainValidBatch, isPlainValidEvent } from './publish-event.fast-path';

const base = {
  type: 'invoice.paid',
  subject: 'invoice/inv_1',
  actor: { type: 'service', id: 'billing' },
  actingAsTenantId: '0195f1a2-7c3e-7a10-9b2c-1d2e3f405162',
  occurredAt: '2026-11-26T10:00:00Z',
  data: { amount: 1200, nested: { list: [1, 2, { deep: true }] } },
};

const odd: unknown[] = [
  undefined,
  null,
  '',
  'x',
  0,
  1.5,
  true,
  [],
  ['a'],
  {},
  { a: 1 },
  'a'.repeat(128),
  'a'.repeat(129),
  'a'.repeat(512),
  'a'.repeat(513),
  '😀'.repeat(64),
  '😀'.repeat(65),
  '😀'.repeat(100),
];

const perField: Record<string, unknown[]> = {
  type: [
    'invoice',
    'Invoice.paid',
    'invoice..paid',
    'invoice.paid.',
    '1nvoice.paid',
    'a.b',
    'a_b.c_1',
  ],
  actor: [
    [{ type: 'user', id: 'u' }],
    { type: 'user', id: 'u' },
    { type: 'robot', id: 'u' },
    { type: 'ai_agent', id: '' },
    { type: 'system', id: 'a'.repeat(128) },
    { type: 'system', id: 'a'.repeat(129) },
    { type: 'user' },
    { type: 'user', id: 'u', extra: 1 },
    { type: 'user', id: 7 },
  ],
  actingAsTenantId: [
    '0195F1A2-7C3E-7A10-9B2C-1D2E3F405162',
    'c56a4180-65aa-42ec-a945-5fd21dec0538',
    '00000000-0000-0000-0000-000000000000',
    'not-a-uuid',
    '0195f1a27c3e7a109b2c1d2e3f405162',
  ],
  occurredAt: [
    '2026-11-26',
    '2026-11-26T10:00:00.123+01:00',
    '2026-11-26 10:00:00Z',
    '2026-02-30T00:00:00Z',
    '2026-11-26T25:00:00Z',
    'yesterday',
    '2020-W01',
    '2020-366',
    '9999-12-31T23:00:00-02:00',
  ],
  data: [{ x: null }, { __proto__: { polluted: 1 } }, Object.create(null)],
};

function variants(): unknown[] {
  const out: unknown[] = [base, ...odd];
  for (const field of Object.keys(base)) {
    for (const value of [...odd, ...(perField[field] ?? [])]) {
      out.push({ ...base, [field]: value });
      const without: Record<string, unknown> = { ...base };
      delete without[field];
      out.push(without);
    }
  }
  out.push({ ...base, extra: 1 }, { ...base, data: [] });
  return out;
}

async function acceptedByClassValidator(dto: abstract new () => unknown, value: unknown) {
  try {
    await createValidationPipe().transform(value, { type: 'body', metatype: dto as never });
    return true;
  } catch {
    return false;
  }
}

describe('the events routes fast path', () => {
  it('accepts only events class-validator accepts, and takes the common ones', async () => {
    let fast = 0;
    for (const value of variants()) {
      if (!isPlainValidEvent(value)) continue;
      fast++;
      expect({ value, accepted: await acceptedByClassValidator(PublishEventDto, value) }).toEqual({
        value,
        accepted: true,
      });
    }
    expect(isPlainValidEvent(base)).toBe(true);
    expect(isPlainValidEvent({ type: 'a.b', actor: { type: 'user', id: 'u' }, data: {} })).toBe(
      true,
    );
    expect(fast).toBeGreaterThan(30);
  });

  it('accepts only batches class-validator accepts', async () => {
    const batches = [
      { events: [base] },
      { events: Array.from({ length: 500 }, () => base) },
      { events: Array.from({ length: 501 }, () => base) },
      { events: [] },
      { events: [base, { ...base, type: 'Bad' }] },
      { events: [base], extra: true },
      { events: base },
      [base],
    ];
    for (const value of batches) {
      if (!isPlainValidBatch(value)) continue;
      expect(await acceptedByClassValidator(PublishEventBatchDto, value)).toBe(true);
    }
    expect(isPlainValidBatch(batches[1])).toBe(true);
    expect(batches.filter(isPlainValidBatch)).toHaveLength(2);
  });

  it('refuses arrays for objects and week dates on the full path too', async () => {
    for (const value of [
      { ...base, actor: [] },
      { ...base, actor: [{ type: 'user', id: 'u' }] },
      { ...base, data: [] },
      { ...base, occurredAt: '2020-W01' },
    ]) {
      expect(await acceptedByClassValidator(PublishEventDto, value)).toBe(false);
    }
    expect(await acceptedByClassValidator(PublishEventBatchDto, { events: [[]] })).toBe(false);
  });

  it('keeps data exactly as sent on both paths, whatever its neighbours', async () => {
    const data = JSON.parse(
      '{"constructor":1,"toString":"t","valueOf":{"hasOwnProperty":[]},"__defineGetter__":0}',
    );
    const plain = { ...base, data };
    const slowNeighbour = { ...base, subject: null };
    expect(isPlainValidBatch({ events: [plain] })).toBe(true);
    expect(isPlainValidBatch({ events: [plain, slowNeighbour] })).toBe(false);
    const pipe = createValidationPipe();
    for (const events of [[plain], [plain, slowNeighbour]]) {
      const dto = (await pipe.transform(
        { events },
        { type: 'body', metatype: PublishEventBatchDto },
      )) as PublishEventBatchDto;
      expect(JSON.stringify(dto.events[0].data)).toBe(JSON.stringify(data));
    }
  });
});
