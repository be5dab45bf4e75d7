import { createValidationPipe } from '@app/platform';
import { SubmitActionDto } from './ai-action.dto';
import { isPlainValidSubmission } from './submit-action.fast-path';

const base = {
  type: 'crm.update',
  initiator: 'user',
  agent: { id: 'agent-1', model: 'm' },
  input: { dealId: 'd_1', amount: 100, nested: { list: [1, { deep: true }] } },
  requestedBy: 'user_1',
  rationale: 'raise the discount',
  proposedRisk: 'medium',
  expiresInSeconds: 3600,
};

const odd: unknown[] = [
  undefined,
  null,
  '',
  'x',
  0,
  -1,
  1.5,
  true,
  [],
  ['a'],
  {},
  { a: 1 },
  'a'.repeat(128),
  'a'.repeat(129),
  'a'.repeat(4000),
  'a'.repeat(4001),
  '😀'.repeat(64),
  '😀'.repeat(65),
  '😀'.repeat(2001),
];

const perField: Record<string, unknown[]> = {
  type: ['crm', 'Crm.update', 'crm..update', 'a.b', 'a_b.c_1'],
  initiator: ['user', 'autonomous', 'robot'],
  agent: [
    { id: 'a' },
    { id: '' },
    { id: 'a', model: '' },
    { id: 'a', model: null },
    { id: 'a'.repeat(129) },
    { id: 'a', extra: 1 },
    { id: 7 },
    [{ id: 'a' }],
  ],
  input: [{ x: null }, { __proto__: { polluted: 1 } }, Object.create(null), { constructor: 1 }],
  proposedRisk: ['low', 'high', 'extreme'],
  expiresInSeconds: [1, 0, 90 * 86400, 90 * 86400 + 1, Number('1e400'), '60', 60.5],
};

function variants(): unknown[] {
  const out: unknown[] = [base, ...odd];
  for (const field of Object.keys(base)) {
    for (const value of [...odd, ...(perField[field] ?? [])]) {
      out.push({ ...base, [field]: value });
      out.push({ ...base, initiator: 'autonomous', [field]: value });
      const without: Record<string, unknown> = { ...base };
      delete without[field];
      out.push(without, { ...without, initiator: 'autonomous' });
    }
  }
  out.push({ ...base, extra: 1 });
  return out;
}

async function acceptedByClassValidator(value: unknown) {
  try {
    await createValidationPipe().transform(value, {
      type: 'body',
      metatype: SubmitActionDto as never,
    });
    return true;
  } catch {
    return false;
  }
}

describe('the submissions fast path', () => {
  it('accepts only submissions class-validator accepts, and takes the common ones', async () => {
    let fast = 0;
    for (const value of variants()) {
      if (!isPlainValidSubmission(value)) continue;
      fast++;
      expect({ value, accepted: await acceptedByClassValidator(value) }).toEqual({
        value,
        accepted: true,
      });
    }
    expect(isPlainValidSubmission(base)).toBe(true);
    const minimal = { type: 'a.b', initiator: 'autonomous', agent: { id: 'a' }, input: {} };
    expect(isPlainValidSubmission(minimal)).toBe(true);
    expect(isPlainValidSubmission({ ...minimal, initiator: 'user' })).toBe(false); // requestedBy
    expect(fast).toBeGreaterThan(30);
  });
});
