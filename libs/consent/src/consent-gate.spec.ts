import { ConsentGate, decide, GateRead, GateReader } from './consent-gate';
import { CATEGORIES, CHANNELS, ConsentState, Contact, MODES } from './consent.types';

const STATES: ConsentState[] = [
  'unknown',
  'granted',
  'withdrawn',
  'denied',
  'pending_confirmation',
];

/** SPEC 7, written out per case: what each combination must give. */
function expected(c: {
  category: string;
  state: ConsentState;
  doNotContact: boolean;
  hasAddress: boolean;
}): string | null {
  if (c.doNotContact) return 'do_not_contact';
  if (c.state === 'withdrawn') return 'withdrawn';
  if (c.state === 'denied') return 'no_consent';
  if (c.category === 'marketing' && c.state === 'unknown') return 'no_consent';
  if (c.category === 'marketing' && c.state === 'pending_confirmation') {
    return 'pending_confirmation';
  }
  if (!c.hasAddress) return 'missing_address';
  return null;
}

const table = CHANNELS.flatMap((channel) =>
  CATEGORIES.flatMap((category) =>
    STATES.flatMap((state) =>
      [false, true].flatMap((doNotContact) =>
        [true, false].flatMap((hasAddress) =>
          MODES.map((mode) => ({ channel, category, state, doNotContact, hasAddress, mode })),
        ),
      ),
    ),
  ),
);

describe('ConsentGate decision table', () => {
  it('covers every channel × category × state × do-not-contact × address × mode', () => {
    expect(table).toHaveLength(5 * 2 * 5 * 2 * 2 * 3);
  });

  it('decides every row as SPEC 7 says', () => {
    const wrong = table.filter((input) => {
      const reason = expected(input);
      const got = decide(input);
      return got.allowed !== (reason === null) || got.reason !== reason;
    });
    expect(wrong).toEqual([]);
  });

  it('never lets marketing out without a grant, in any mode', () => {
    const out = table.filter((t) => t.category === 'marketing' && decide(t).allowed);
    expect(out.every((t) => t.state === 'granted' && !t.doNotContact)).toBe(true);
  });
});

const contact = (over: Partial<Contact> = {}): Contact => ({
  id: 'c',
  externalId: 'x',
  email: 'a@example.com',
  phone: null,
  whatsapp: null,
  postalAddress: null,
  timeZone: null,
  doNotContact: false,
  doNotContactReason: null,
  erasedAt: null,
  createdAt: '',
  updatedAt: '',
  ...over,
});

type ReadOne = (...a: [unknown, string, string, string]) => Promise<GateRead>;
const reader = (read: ReadOne): GateReader => ({
  readMany: (sql, keys) =>
    Promise.all(keys.map((k) => read(sql, k.tenantId, k.contactId, k.channel))),
});
const sql = { query: jest.fn() };

describe('ConsentGate', () => {
  it('allows and names the consent-log record it relied on', async () => {
    const gate = new ConsentGate(
      reader(async () => ({
        contact: contact(),
        state: 'granted',
        logId: 'log-1',
        mode: 'standard',
      })),
    );
    await expect(gate.check(sql, 't', 'c', 'email', 'marketing')).resolves.toMatchObject({
      allowed: true,
      reason: null,
      consentLogId: 'log-1',
    });
  });

  it('fails closed when its database read breaks', async () => {
    const gate = new ConsentGate(
      reader(async () => {
        throw new Error('connection terminated unexpectedly');
      }),
    );
    for (const category of CATEGORIES) {
      await expect(gate.check(sql, 't', 'c', 'email', category)).resolves.toEqual({
        allowed: false,
        reason: 'no_consent',
        consentLogId: null,
        read: null,
      });
    }
  });

  it('refuses a contact that is gone or erased', async () => {
    const gone = new ConsentGate(
      reader(async () => ({ contact: null, state: 'unknown', logId: null, mode: 'standard' })),
    );
    expect((await gone.check(sql, 't', 'c', 'email', 'transactional')).allowed).toBe(false);
    const erased = new ConsentGate(
      reader(async () => ({
        contact: contact({ erasedAt: '2026-01-01T00:00:00Z' }),
        state: 'granted',
        logId: 'l',
        mode: 'gdpr',
      })),
    );
    expect((await erased.check(sql, 't', 'c', 'email', 'transactional')).allowed).toBe(false);
  });
});
