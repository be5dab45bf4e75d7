import { createHash } from 'node:crypto';
import { GENESIS_HASH, hashEntry, UnhashedEntry } from './audit-entry';

const entry: UnhashedEntry = {
  seq: 1,
  chain: 'main',
  tenantId: '01a21677-6643-761a-be98-a244275e567d',
  eventId: '01a21678-0030-707a-9f20-9e577548ac36',
  type: 'invoice.paid',
  subject: 'invoice/inv_123',
  actor: { type: 'user', id: 'u_42' },
  actingAsTenantId: null,
  data: { currency: 'EUR', amount: 1200 },
  occurredAt: '2026-11-22T10:00:00.000Z',
  recordedAt: '2026-11-22T10:00:00.123Z',
};

describe('hashEntry', () => {
  it('hashes the raw prevHash bytes followed by the JCS form of the entry', () => {
    const jcs =
      '{"actingAsTenantId":null,"actor":{"id":"u_42","type":"user"},"chain":"main",' +
      '"data":{"amount":1200,"currency":"EUR"},"eventId":"01a21678-0030-707a-9f20-9e577548ac36",' +
      '"occurredAt":"2026-11-22T10:00:00.000Z","recordedAt":"2026-11-22T10:00:00.123Z","seq":1,' +
      '"subject":"invoice/inv_123","tenantId":"01a21677-6643-761a-be98-a244275e567d","type":"invoice.paid"}';
    const expected = createHash('sha256').update(Buffer.alloc(32)).update(jcs).digest('hex');
    expect(hashEntry(GENESIS_HASH, entry)).toBe(expected);
  });

  it('changes with any field and with the previous hash', () => {
    const base = hashEntry(GENESIS_HASH, entry);
    expect(hashEntry(GENESIS_HASH, { ...entry, data: { amount: 1201, currency: 'EUR' } })).not.toBe(
      base,
    );
    expect(hashEntry('1'.repeat(64), entry)).not.toBe(base);
    expect(hashEntry(GENESIS_HASH, { ...entry, subject: null })).not.toBe(base);
  });

  it('ignores key order (JCS)', () => {
    const reordered = { ...entry, data: { amount: 1200, currency: 'EUR' } };
    expect(hashEntry(GENESIS_HASH, reordered)).toBe(hashEntry(GENESIS_HASH, entry));
  });
});
