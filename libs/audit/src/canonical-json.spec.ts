import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { canonicalEntry, canonicalJson } from './canonical-json';

const body = (e: Record<string, unknown>) => ({
  seq: e.seq,
  chain: e.chain,
  tenantId: e.tenantId,
  eventId: e.eventId,
  type: e.type,
  subject: e.subject,
  actor: e.actor,
  actingAsTenantId: e.actingAsTenantId,
  data: e.data,
  occurredAt: e.occurredAt,
  recordedAt: e.recordedAt,
});

describe('canonical JSON (the hash input must never change)', () => {
  it('writes any JSON value exactly as the canonicalize package does', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(canonicalJson(v)).toBe(canonicalize(v));
      }),
      { numRuns: 2000 },
    );
  });

  it('writes objects with undefined members, holes, toJSON and odd keys as canonicalize does', () => {
    const odd = {
      b: undefined,
      a: [1, undefined, 'x'],
      é: new Date(Date.UTC(2026, 0, 1)),
      '\u{1F600}': 1,
      '\ufb33': 2,
      '': -0,
      n: 1e21,
      f: 0.1 + 0.2,
      e: 'line\nbreak "quoted" \u2028',
    };
    expect(canonicalJson(odd)).toBe(canonicalize(odd));
    expect(() => canonicalJson({ x: NaN })).toThrow('NaN is not allowed');
    expect(() => canonicalJson({ x: Infinity })).toThrow('Infinity is not allowed');
  });

  it('writes an entry body as canonicalize writes its eleven hashed fields', () => {
    const entry = fc.record({
      seq: fc.integer({ min: 1 }),
      chain: fc.constantFrom('main', 'ai'),
      tenantId: fc.uuid(),
      eventId: fc.uuid(),
      type: fc.string(),
      subject: fc.option(fc.string()),
      actor: fc.record({ type: fc.string(), id: fc.string() }),
      actingAsTenantId: fc.option(fc.uuid()),
      data: fc.dictionary(fc.string(), fc.jsonValue()),
      occurredAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      recordedAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      prevHash: fc.string(),
      hash: fc.string(),
    });
    fc.assert(
      fc.property(entry, (e) => {
        expect(canonicalEntry(e)).toBe(canonicalize(body(e)));
      }),
      { numRuns: 1000 },
    );
    const missing = { seq: 1, chain: 'main', data: {} };
    expect(canonicalEntry(missing)).toBe(canonicalize(body(missing)));
  });
});
