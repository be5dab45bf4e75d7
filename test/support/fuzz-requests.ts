import fc from 'fast-check';

/**
 * Mutated requests for every route of the API, built with fast-check. Ids are placeholders
 * (`{own.event}`, `{other.endpoint}`, …) filled in when sent, so a seed names the same requests
 * in every run. Values JSON cannot carry from JavaScript (1e400, a raw `__proto__` key) are
 * written as markers and spliced into the text.
 */
export interface FuzzRequest {
  route: string;
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  /** The body as sent (undefined: none). */
  body?: string;
  /** The request names another tenant's resource: it must never succeed. */
  foreign: boolean;
  /** Sent with the seeded browser session (cookie and CSRF token) instead of the API key. */
  session?: boolean;
  /** The body's content type when it is not JSON (console forms). */
  contentType?: string;
}

export const RAW_1E400 = '__fuzz_raw_1e400__';
export const RAW_NEG_1E400 = '__fuzz_raw_-1e400__';
export const RAW_NEG_ZERO = '__fuzz_raw_-0__';
export const RAW_SURROGATE = '__fuzz_raw_lone_surrogate__';

const RAW: Record<string, string> = {
  [`"${RAW_1E400}"`]: '1e400',
  [`"${RAW_NEG_1E400}"`]: '-1e400',
  [`"${RAW_NEG_ZERO}"`]: '-0',
  [`"${RAW_SURROGATE}"`]: '"\\ud800x"',
};

/** JSON text with the markers replaced by what they stand for. */
export function toJsonText(value: unknown): string {
  let text = JSON.stringify(value) ?? '';
  for (const [marker, raw] of Object.entries(RAW)) text = text.split(marker).join(raw);
  return text;
}

const nest = (depth: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { d: v };
  return v;
};

const hostileStrings = fc.constantFrom(
  '',
  ' ',
  "' OR '1'='1",
  '1; DROP TABLE events; --',
  '$1',
  '%s%n',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  '😀',
  'ﬁ',
  '\u202e',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '2020-W01',
  '2020-366',
  '2026-02-30T00:00:00Z',
  '9999-12-31T23:00:00-02:00',
  '0000-01-01T00:00:00Z',
  'invoice.paid',
  'tenant.created',
  'messaging.sent',
  '*',
  'x'.repeat(129),
  'y'.repeat(513),
  'z'.repeat(3000),
);

/** Values that are wrong for most fields, and some that are right for many. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileStrings,
  fc.constantFrom(
    null,
    true,
    false,
    0,
    -1,
    1.5,
    2 ** 53 + 1,
    1e308,
    RAW_1E400,
    RAW_NEG_1E400,
    RAW_NEG_ZERO,
    RAW_SURROGATE,
    [],
    [[]],
    [{}],
    {},
    { type: 'user', id: 'u' },
    [{ type: 'user', id: 'u' }],
    JSON.parse('{"__proto__":{"polluted":1}}'),
    JSON.parse('{"constructor":{"prototype":{"polluted":1}}}'),
    { constructor: 1, toString: 'x', valueOf: {}, hasOwnProperty: [] },
  ),
  fc.constantFrom(70, 65, 63).map(nest),
  fc.constantFrom(600, 50000).map((n) => Array.from({ length: n }, () => ({}))),
  fc.constantFrom(300 * 1024).map((n) => 'h'.repeat(n)),
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

type Body = Record<string, unknown>;

/** A valid body, then fields replaced, removed or added; sometimes the whole body replaced. */
function mutatedBody(valid: fc.Arbitrary<Body>): fc.Arbitrary<unknown> {
  const fieldMutation = fc.tuple(
    valid,
    fc.array(
      fc.tuple(
        fc.constantFrom('replace', 'remove', 'add', 'nested'),
        fc.nat(),
        hostileValue,
        fc.constantFrom('extra', 'constructor', 'toString', '__proto__', 'prototype', 'type'),
      ),
      { maxLength: 3 },
    ),
  );
  return fc.oneof(
    { weight: 2, arbitrary: valid },
    {
      weight: 6,
      arbitrary: fieldMutation.map(([body, steps]) => {
        const out: Body = JSON.parse(JSON.stringify(body));
        for (const [kind, n, value, name] of steps) {
          const keys = Object.keys(out);
          const key = keys.length ? keys[n % keys.length] : name;
          if (kind === 'replace') out[key] = value;
          else if (kind === 'remove') delete out[key];
          else if (kind === 'add')
            Object.defineProperty(out, name, {
              value,
              enumerable: true,
              writable: true,
              configurable: true,
            });
          else {
            const inner = out[key];
            if (inner && typeof inner === 'object' && !Array.isArray(inner)) {
              Object.defineProperty(inner, name, {
                value,
                enumerable: true,
                writable: true,
                configurable: true,
              });
            } else out[key] = value;
          }
        }
        return out;
      }),
    },
    { weight: 1, arbitrary: hostileValue },
    { weight: 1, arbitrary: valid.map((b) => [b]) },
  );
}

const event = fc.record(
  {
    type: fc.constantFrom('invoice.paid', 'order.created', 'a.b'),
    subject: fc.constantFrom('invoice/1', 'x'),
    actor: fc.record({
      type: fc.constantFrom('user', 'service', 'ai_agent', 'system'),
      id: fc.constantFrom('u_1', 'svc'),
    }),
    occurredAt: fc.constantFrom('2026-11-22T10:00:00Z', '2020-01-01'),
    data: fc.oneof(
      fc.constant({ amount: 1 }),
      fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
    ),
  },
  { requiredKeys: ['type', 'actor', 'data'] },
) as fc.Arbitrary<Body>;

const batch = fc
  .array(event, { minLength: 1, maxLength: 5 })
  .map((events) => ({ events })) as fc.Arbitrary<Body>;

const endpoint = fc.record(
  {
    url: fc.constantFrom(
      'http://127.0.0.1:9/hook',
      'https://example.com/x',
      'ftp://x',
      'http://10.0.0.1/',
    ),
    eventTypes: fc.constantFrom(['*'], ['invoice.*'], ['invoice.paid', 'order.created']),
    description: fc.constantFrom('d', ''),
    rateLimitPerSecond: fc.constantFrom(1, 100),
  },
  { requiredKeys: ['url', 'eventTypes'] },
) as fc.Arbitrary<Body>;

const patch = fc.record(
  {
    url: fc.constantFrom('http://127.0.0.1:9/other'),
    eventTypes: fc.constantFrom(['*']),
    description: fc.constantFrom('x', null),
    rateLimitPerSecond: fc.constantFrom(5, null),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<Body>;

const recover = fc.record({
  since: fc.constantFrom('2020-01-01T00:00:00Z', '2026-11-22T10:00:00.123+01:00'),
}) as fc.Arbitrary<Body>;

const apiKey = fc.record({
  name: fc.constantFrom('ci', 'k'),
  scopes: fc.constantFrom(['events:write'], ['audit:read', 'events:read']),
}) as fc.Arbitrary<Body>;

const aiInput = fc.oneof(
  fc.constant({ dealId: 'd_1', amount: 100 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
) as fc.Arbitrary<Body>;

const aiAction = fc.record(
  {
    type: fc.constantFrom('crm.update', 'records.delete', 'message.send', 'a.b'),
    initiator: fc.constantFrom('user', 'autonomous'),
    agent: fc.record(
      { id: fc.constantFrom('agent-1', 'a'), model: fc.constantFrom('m', '') },
      {
        requiredKeys: ['id'],
      },
    ),
    input: aiInput,
    requestedBy: fc.constantFrom('u_1', ''),
    rationale: fc.constantFrom('because', ''),
    proposedRisk: fc.constantFrom('low', 'medium', 'high'),
    expiresInSeconds: fc.constantFrom(1, 60, 90 * 86400),
  },
  { requiredKeys: ['type', 'initiator', 'agent', 'input'] },
) as fc.Arbitrary<Body>;

const aiRevision = fc.record(
  { input: aiInput, rationale: fc.constantFrom('fixed', '') },
  { requiredKeys: ['input'] },
) as fc.Arbitrary<Body>;

const aiHash = fc.constantFrom('0'.repeat(64), 'ab', 'A'.repeat(64));

const aiDecision = fc.record(
  {
    decision: fc.constantFrom('approve', 'reject'),
    reason: fc.constantFrom('ok', ''),
    inputHash: aiHash,
    input: aiInput,
  },
  { requiredKeys: ['decision'] },
) as fc.Arbitrary<Body>;

const aiOutcome = fc.record(
  {
    status: fc.constantFrom('succeeded', 'failed'),
    output: fc.constantFrom({}, { id: 'r_1' }),
    usage: fc.constantFrom({ tokens: 10 }),
    inputHash: aiHash,
  },
  { requiredKeys: ['status', 'output'] },
) as fc.Arbitrary<Body>;

const aiPolicy = fc.record(
  {
    risk: fc.constantFrom('low', 'medium', 'high'),
    requiredApprovals: fc.constantFrom(1, 2, 5),
    autoApprove: fc.record({
      max: fc.constantFrom(0, 1, 1000),
      windowSeconds: fc.constantFrom(1, 3600),
    }),
  },
  { requiredKeys: ['risk'] },
) as fc.Arbitrary<Body>;

const aiSettings = fc.record(
  { paused: fc.constantFrom(true, false), reason: fc.constantFrom('incident', '') },
  { requiredKeys: ['paused'] },
) as fc.Arbitrary<Body>;

const contact = fc.record(
  {
    externalId: fc.constantFrom('crm-1', 'crm-2', ''),
    email: fc.constantFrom('ada@example.com', 'not-an-email'),
    phone: fc.constantFrom('+4930123456', '12'),
    whatsapp: fc.constantFrom('+4930123456'),
    postalAddress: fc.constantFrom('1 Main St', ''),
    timeZone: fc.constantFrom('Europe/Berlin', 'UTC', 'Mars/Olympus', ''),
  },
  { requiredKeys: ['externalId'] },
) as fc.Arbitrary<Body>;

const contactPatch = fc.record(
  {
    email: fc.constantFrom('b@example.com', null),
    phone: fc.constantFrom('+12125550100', null),
    timeZone: fc.constantFrom('America/New_York', null, 'Nowhere/Else'),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<Body>;

const consentChange = fc.record(
  {
    channel: fc.constantFrom('email', 'sms', 'whatsapp', 'phone', 'postal', 'fax'),
    status: fc.constantFrom('granted', 'withdrawn', 'denied', 'pending_confirmation'),
    source: fc.constantFrom('form', ''),
    legalBasis: fc.constantFrom('consent', ''),
    evidence: fc.record(
      {
        ip: fc.constantFrom('203.0.113.9'),
        userAgent: fc.constantFrom('Mozilla/5.0'),
        text: fc.constantFrom('Yes'),
        url: fc.constantFrom('https://example.com/signup'),
        noticeVersion: fc.constantFrom('v1'),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['channel', 'status', 'source'] },
) as fc.Arbitrary<Body>;

const doNotContact = fc.record(
  { enabled: fc.constantFrom(true, false), reason: fc.constantFrom('asked', '') },
  { requiredKeys: ['enabled'] },
) as fc.Arbitrary<Body>;

const consentSettings = fc.record(
  {
    mode: fc.constantFrom('standard', 'gdpr', 'ccpa'),
    doubleOptIn: fc.constantFrom(true, false),
    timeZone: fc.constantFrom('Europe/Berlin', 'Bad/Zone'),
    quietHours: fc.record({
      start: fc.constantFrom('21:00', '25:00'),
      end: fc.constantFrom('08:00', '8'),
    }),
  },
  { requiredKeys: ['mode', 'doubleOptIn'] },
) as fc.Arbitrary<Body>;

const retention = fc.record(
  { messagesDays: fc.constantFrom(30, 0, null), eventsDays: fc.constantFrom(365, -1, null) },
  { requiredKeys: [] },
) as fc.Arbitrary<Body>;

const message = fc.record(
  {
    contactId: fc.constantFrom('{own.contact}', '{other.contact}', 'nope'),
    channel: fc.constantFrom('email', 'sms', 'whatsapp', 'phone', 'postal'),
    category: fc.constantFrom('marketing', 'transactional', 'spam'),
    subject: fc.constantFrom('Hi', ''),
    body: fc.constantFrom('Hello', ''),
  },
  { requiredKeys: ['contactId', 'channel', 'category', 'body'] },
) as fc.Arbitrary<Body>;

const preferenceForm = fc.record(
  {
    csrf: fc.constantFrom('x', ''),
    email: fc.constantFrom('granted', 'withdrawn', 'maybe'),
    'List-Unsubscribe': fc.constantFrom('One-Click', 'no'),
    confirm: fc.constantFrom('yes'),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<Body>;

type Ids =
  | 'event'
  | 'endpoint'
  | 'spareEndpoint'
  | 'delivery'
  | 'apiKey'
  | 'aiAction'
  | 'contact'
  | 'message'
  | 'link';

interface Route {
  name: string;
  method: string;
  path: string;
  id?: Ids;
  body?: fc.Arbitrary<Body>;
  /** Valid query parameters for the route. */
  query?: fc.Arbitrary<Record<string, string>>;
  /** A console route: sent with the seeded session; its body (if any) is an HTML form. */
  session?: boolean;
  form?: fc.Arbitrary<Record<string, string>>;
}

const page = fc.record(
  { limit: fc.constantFrom('1', '50', '500') },
  { requiredKeys: [] },
) as fc.Arbitrary<Record<string, string>>;
const chain = fc.record({ chain: fc.constant('main') }, { requiredKeys: [] }) as fc.Arbitrary<
  Record<string, string>
>;

const login = fc.record(
  {
    email: fc.constantFrom('{own.email}', 'nobody@example.com', 'NOT AN EMAIL'),
    password: fc.constantFrom('wrong-password-1', '', 'p'.repeat(2000)),
    next: fc.constantFrom('/console', '/console/actions/x', 'https://evil.example', '//evil'),
  },
  { requiredKeys: ['email', 'password'] },
) as fc.Arbitrary<Body>;

/** A form field: a valid value, or one of the hostile strings. */
const field = (...valid: string[]) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...valid) },
    { weight: 1, arbitrary: hostileStrings },
  );

const withCsrf = (fields: Record<string, fc.Arbitrary<string>>) =>
  fc.record(
    { _csrf: fc.constantFrom('{own.csrf}', '{own.csrf}', '{own.csrf}', 'nope', ''), ...fields },
    { requiredKeys: [] },
  ) as fc.Arbitrary<Record<string, string>>;

const csrfOnly = withCsrf({});
const decisionForm = withCsrf({
  decision: field('approve', 'reject'),
  reason: field('fine', ' ', 'r'.repeat(2001)),
  inputHash: field('0'.repeat(64), 'A'.repeat(64)),
});
const recoverForm = withCsrf({
  since: field('2026-01-01T00:00', '2026-01-01T00:00:00Z', 'yesterday'),
});
const passwordForm = withCsrf({
  currentPassword: field('wrong-password-1'),
  newPassword: field('short', 'a-long-enough-new-password'),
});
const queueQuery = fc.record(
  {
    risk: fc.constantFrom('low', 'high', 'extreme'),
    type: fc.constantFrom('crm.update', 'Bad Type'),
    after: fc.constantFrom('{own.aiAction}', 'x'),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<Record<string, string>>;
const auditQuery = fc.record(
  {
    chain: fc.constantFrom('main', 'ai', 'nope'),
    type: fc.constantFrom('invoice.paid'),
    subject: fc.constantFrom('invoice/1'),
    before: fc.constantFrom('2', '0', 'x', '99999999999999999999'),
    verify: fc.constantFrom('1', '0'),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<Record<string, string>>;
const consoleLoginQuery = fc.record(
  { next: fc.constantFrom('/console', '//evil.example'), error: fc.constantFrom('bad', 'locked') },
  { requiredKeys: [] },
) as fc.Arbitrary<Record<string, string>>;

export const ROUTES: Route[] = [
  { name: 'publish', method: 'POST', path: '/v1/events', body: event },
  { name: 'batch', method: 'POST', path: '/v1/events/batch', body: batch },
  { name: 'event', method: 'GET', path: '/v1/events/{id}', id: 'event' },
  {
    name: 'audit entries',
    method: 'GET',
    path: '/v1/audit/entries',
    query: fc.record(
      {
        limit: fc.constantFrom('1', '500'),
        chain: fc.constant('main'),
        type: fc.constant('invoice.paid'),
        actorId: fc.constant('u_1'),
        subject: fc.constant('invoice/1'),
        from: fc.constantFrom('2020-01-01T00:00:00Z', '2020-01-01'),
        to: fc.constantFrom('2030-01-01T00:00:00.5+02:00'),
      },
      { requiredKeys: [] },
    ) as fc.Arbitrary<Record<string, string>>,
  },
  { name: 'audit entry', method: 'GET', path: '/v1/audit/entries/{seq}', query: chain },
  { name: 'audit verify', method: 'GET', path: '/v1/audit/verify', query: chain },
  {
    name: 'audit export',
    method: 'GET',
    path: '/v1/audit/export',
    query: fc.record(
      { chain: fc.constant('main'), fromSeq: fc.constant('1'), toSeq: fc.constant('3') },
      { requiredKeys: [] },
    ) as fc.Arbitrary<Record<string, string>>,
  },
  { name: 'audit checkpoints', method: 'GET', path: '/v1/audit/checkpoints', query: page },
  { name: 'audit public key', method: 'GET', path: '/v1/audit/public-key' },
  { name: 'audit public keys', method: 'GET', path: '/v1/audit/public-keys' },
  { name: 'endpoint create', method: 'POST', path: '/v1/webhooks/endpoints', body: endpoint },
  { name: 'endpoint list', method: 'GET', path: '/v1/webhooks/endpoints', query: page },
  { name: 'endpoint get', method: 'GET', path: '/v1/webhooks/endpoints/{id}', id: 'endpoint' },
  {
    name: 'endpoint update',
    method: 'PATCH',
    path: '/v1/webhooks/endpoints/{id}',
    id: 'endpoint',
    body: patch,
  },
  {
    name: 'endpoint delete',
    method: 'DELETE',
    path: '/v1/webhooks/endpoints/{id}',
    id: 'spareEndpoint',
  },
  {
    name: 'endpoint rotate',
    method: 'POST',
    path: '/v1/webhooks/endpoints/{id}/rotate-secret',
    id: 'endpoint',
  },
  {
    name: 'endpoint enable',
    method: 'POST',
    path: '/v1/webhooks/endpoints/{id}/enable',
    id: 'endpoint',
  },
  {
    name: 'endpoint test',
    method: 'POST',
    path: '/v1/webhooks/endpoints/{id}/test',
    id: 'endpoint',
  },
  {
    name: 'endpoint recover',
    method: 'POST',
    path: '/v1/webhooks/endpoints/{id}/recover',
    id: 'endpoint',
    body: recover,
  },
  {
    name: 'endpoint deliveries',
    method: 'GET',
    path: '/v1/webhooks/endpoints/{id}/deliveries',
    id: 'endpoint',
    query: fc.record(
      { limit: fc.constantFrom('1', '500'), status: fc.constantFrom('pending', 'failed') },
      { requiredKeys: [] },
    ) as fc.Arbitrary<Record<string, string>>,
  },
  {
    name: 'delivery retry',
    method: 'POST',
    path: '/v1/webhooks/deliveries/{id}/retry',
    id: 'delivery',
  },
  { name: 'api key create', method: 'POST', path: '/v1/api-keys', body: apiKey },
  { name: 'api key revoke', method: 'DELETE', path: '/v1/api-keys/{id}', id: 'apiKey' },
  { name: 'ai submit', method: 'POST', path: '/v1/ai-actions', body: aiAction },
  {
    name: 'ai list',
    method: 'GET',
    path: '/v1/ai-actions',
    query: fc.record(
      {
        limit: fc.constantFrom('1', '500'),
        status: fc.constantFrom('pending_approval', 'auto_approved'),
        risk: fc.constantFrom('low', 'high'),
        type: fc.constantFrom('crm.update'),
        agentId: fc.constantFrom('agent-1'),
      },
      { requiredKeys: [] },
    ) as fc.Arbitrary<Record<string, string>>,
  },
  { name: 'ai get', method: 'GET', path: '/v1/ai-actions/{id}', id: 'aiAction' },
  {
    name: 'ai revise',
    method: 'PUT',
    path: '/v1/ai-actions/{id}/input',
    id: 'aiAction',
    body: aiRevision,
  },
  {
    name: 'ai decide',
    method: 'POST',
    path: '/v1/ai-actions/{id}/decisions',
    id: 'aiAction',
    body: aiDecision,
  },
  {
    name: 'ai outcome',
    method: 'POST',
    path: '/v1/ai-actions/{id}/outcome',
    id: 'aiAction',
    body: aiOutcome,
  },
  { name: 'ai policy put', method: 'PUT', path: '/v1/ai-policies/{type}', body: aiPolicy },
  { name: 'ai policies', method: 'GET', path: '/v1/ai-policies', query: page },
  { name: 'ai settings put', method: 'PUT', path: '/v1/settings/ai', body: aiSettings },
  { name: 'ai settings', method: 'GET', path: '/v1/settings/ai' },
  { name: 'contact create', method: 'POST', path: '/v1/contacts', body: contact },
  { name: 'contact list', method: 'GET', path: '/v1/contacts', query: page },
  { name: 'contact get', method: 'GET', path: '/v1/contacts/{id}', id: 'contact' },
  {
    name: 'contact patch',
    method: 'PATCH',
    path: '/v1/contacts/{id}',
    id: 'contact',
    body: contactPatch,
  },
  {
    name: 'consent record',
    method: 'POST',
    path: '/v1/contacts/{id}/consents',
    id: 'contact',
    body: consentChange,
  },
  { name: 'consent states', method: 'GET', path: '/v1/contacts/{id}/consents', id: 'contact' },
  { name: 'consent log', method: 'GET', path: '/v1/contacts/{id}/consent-log', id: 'contact' },
  {
    name: 'do not contact',
    method: 'PUT',
    path: '/v1/contacts/{id}/do-not-contact',
    id: 'contact',
    body: doNotContact,
  },
  {
    name: 'preference link',
    method: 'POST',
    path: '/v1/contacts/{id}/preference-links',
    id: 'contact',
  },
  { name: 'contact erase', method: 'POST', path: '/v1/contacts/{id}/erase', id: 'contact' },
  {
    name: 'consent settings put',
    method: 'PUT',
    path: '/v1/settings/consent',
    body: consentSettings,
  },
  { name: 'consent settings', method: 'GET', path: '/v1/settings/consent' },
  { name: 'retention put', method: 'PUT', path: '/v1/settings/retention', body: retention },
  { name: 'retention', method: 'GET', path: '/v1/settings/retention' },
  { name: 'message send', method: 'POST', path: '/v1/messages', body: message },
  { name: 'message get', method: 'GET', path: '/v1/messages/{id}', id: 'message' },
  { name: 'preference page', method: 'GET', path: '/preferences/{id}', id: 'link' },
  {
    name: 'preference save',
    method: 'POST',
    path: '/preferences/{id}',
    id: 'link',
    body: preferenceForm,
  },
  {
    name: 'preference erase',
    method: 'POST',
    path: '/preferences/{id}/erase',
    id: 'link',
    body: preferenceForm,
  },
  { name: 'unsubscribe page', method: 'GET', path: '/unsubscribe/{id}', id: 'link' },
  {
    name: 'one-click unsubscribe',
    method: 'POST',
    path: '/unsubscribe/{id}',
    id: 'link',
    body: preferenceForm,
  },
  { name: 'consent confirm', method: 'GET', path: '/consent/confirm/{id}', id: 'link' },
  {
    name: 'consent confirm post',
    method: 'POST',
    path: '/consent/confirm/{id}',
    id: 'link',
    body: preferenceForm,
  },
  { name: 'preference css', method: 'GET', path: '/preference-centre.css' },
  { name: 'livez', method: 'GET', path: '/livez' },
  { name: 'healthz', method: 'GET', path: '/healthz' },
  { name: 'readyz', method: 'GET', path: '/readyz' },
  { name: 'metrics', method: 'GET', path: '/metrics' },
  { name: 'docs', method: 'GET', path: '/docs' },
  { name: 'docs json', method: 'GET', path: '/docs-json' },
  { name: 'login', method: 'POST', path: '/auth/login', body: login },
  { name: 'logout', method: 'POST', path: '/auth/logout' },
  { name: 'console login', method: 'GET', path: '/console/login', query: consoleLoginQuery },
  { name: 'console queue', method: 'GET', path: '/console', query: queueQuery, session: true },
  {
    name: 'console rows',
    method: 'GET',
    path: '/console/queue/rows',
    query: queueQuery,
    session: true,
  },
  {
    name: 'console action',
    method: 'GET',
    path: '/console/actions/{id}',
    id: 'aiAction',
    session: true,
  },
  {
    name: 'console decide',
    method: 'POST',
    path: '/console/actions/{id}/decision',
    id: 'aiAction',
    session: true,
    form: decisionForm,
  },
  {
    name: 'console audit',
    method: 'GET',
    path: '/console/audit',
    query: auditQuery,
    session: true,
  },
  { name: 'console webhooks', method: 'GET', path: '/console/webhooks', session: true },
  {
    name: 'console endpoint',
    method: 'GET',
    path: '/console/webhooks/{id}',
    id: 'endpoint',
    session: true,
  },
  {
    name: 'console enable',
    method: 'POST',
    path: '/console/webhooks/{id}/enable',
    id: 'endpoint',
    session: true,
    form: csrfOnly,
  },
  {
    name: 'console recover',
    method: 'POST',
    path: '/console/webhooks/{id}/recover',
    id: 'endpoint',
    session: true,
    form: recoverForm,
  },
  { name: 'console account', method: 'GET', path: '/console/account', session: true },
  {
    name: 'console password',
    method: 'POST',
    path: '/console/account/password',
    session: true,
    form: passwordForm,
  },
];

const badIds = fc.constantFrom(
  'not-a-uuid',
  '00000000-0000-0000-0000-000000000000',
  '0195f1a2-7c3e-7a10-9b2c-1d2e3f405162',
  "1' OR '1'='1",
  '%ED%A0%80',
  '%C0%AF',
  '%zz',
  '%',
  '%00',
  '..%2F..%2Fetc',
  'a'.repeat(101),
  'b'.repeat(5000),
  '-1',
  '0',
  '99999999999999999999',
  '1e3',
);

/** An action type in a path: valid, invalid by the type rule, or junk. */
const typeSegment = fc.constantFrom(
  'crm.update',
  'message.send',
  'a.b',
  'CRM.Update',
  'nodot',
  'x'.repeat(200),
  '%ED%A0%80',
  '%00',
  '..%2F..%2Fetc',
  'a.%20b',
);

/** The id segment: our own, another tenant's (must be 404), or junk. */
const idSegment = (kind: Ids | 'seq') =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant(`{own.${kind}}`) },
    { weight: 2, arbitrary: fc.constant(`{other.${kind}}`) },
    { weight: 2, arbitrary: badIds },
    { weight: 1, arbitrary: fc.uuid().map((u) => u.toUpperCase()) },
  );

const seqSegment = fc.constantFrom(
  '1',
  '2',
  '0',
  '-1',
  '1.5',
  '9007199254740993',
  'x',
  '%ED%A0%80',
);

const queryMutation = fc.array(
  fc.tuple(
    fc.constantFrom(
      'limit',
      'cursor',
      'chain',
      'from',
      'to',
      'status',
      'fromSeq',
      'toSeq',
      'type',
      'risk',
      'agentId',
      '__proto__[x]',
      'constructor',
      'unknown',
    ),
    fc.oneof(
      fc.constantFrom(
        '0',
        '501',
        '-1',
        'abc',
        '1e3',
        '',
        '%ED%A0%80',
        '%00',
        '2020-W01',
        '2020-02-30T00:00:00Z',
        '9999-12-31T23:00:00-02:00',
        'eyJzZXEiOiJ4In0',
        'eyJpZCI6IicgT1IgMT0xIn0',
        'eyJzZXEiOjF9',
        '!!!',
        'x'.repeat(600),
        'other',
      ),
      fc.string({ maxLength: 20 }).map(encodeURIComponent),
    ),
  ),
  { maxLength: 3 },
);

const junkHeaders = fc.dictionary(
  fc.constantFrom(
    'idempotency-key',
    'x-tenant-id',
    'content-type',
    'x-request-id',
    'authorization',
    'x-api-key',
    'accept',
  ),
  fc.oneof(
    fc.constantFrom(
      '',
      ' ',
      'k'.repeat(256),
      'key with spaces',
      'ÿ',
      'text/plain',
      'application/json; charset=utf-16',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonx',
      '{other.tenant}',
      '{own.tenant}',
      '00000000-0000-0000-0000-000000000000',
      "'; DROP TABLE tenants; --",
      'Bearer ll_nope',
      'Basic abc',
      '../../etc/passwd',
    ),
    fc.string({ maxLength: 30 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
  ),
  { maxKeys: 2 },
);

const routeArb = fc.constantFrom(...ROUTES);

/** `value` once in `n` times, null otherwise. */
const rarely = <T>(value: fc.Arbitrary<T>, n: number): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: n - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: value });

/** One fuzzed request: a route, its path, query, headers and body, some of them mutated. */
export const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc
  .oneof({ weight: 12, arbitrary: routeArb }, { weight: 1, arbitrary: fc.constant(null) })
  .chain((route) => {
    if (!route) return oddRequest;
    const id = route.id
      ? idSegment(route.id)
      : route.path.includes('{seq}')
        ? seqSegment
        : route.path.includes('{type}')
          ? typeSegment
          : fc.constant('');
    return fc
      .record({
        id,
        query: fc.tuple(route.query ?? fc.constant({}), queryMutation, fc.boolean()),
        headers: fc.tuple(junkHeaders, fc.nat(3), fc.option(fc.nat(40), { freq: 2 })),
        body: route.body ? mutatedBody(route.body) : rarely(hostileValue, 4),
        form: route.form ?? fc.constant(null),
        rawBody: rarely(
          fc.constantFrom(
            '{',
            '{"a":1,}',
            'null',
            '"str"',
            '[]',
            '{"a":"\\x"}',
            '\u0000',
            '{"a":1}{"b":2}',
          ),
          15,
        ),
      })
      .map(({ id, query, headers, body, rawBody, form }) => {
        const [valid, mutations, mutate] = query;
        const params = new URLSearchParams(valid);
        let qs = params.toString();
        if (mutate) {
          for (const [k, v] of mutations) qs += `${qs ? '&' : ''}${k}=${v}`;
        }
        const [junk, dice, idem] = headers;
        const sent: Record<string, string> = dice === 0 ? { ...junk } : {};
        // Keys repeat across requests: replays and conflicts, bodies of every kind.
        if (idem !== null && route.method === 'POST') sent['idempotency-key'] ??= `fuzz-${idem}`;
        const path = route.path.replace('{id}', id).replace('{seq}', id).replace('{type}', id);
        const text = form
          ? new URLSearchParams(form).toString()
          : (rawBody ?? (body === undefined || body === null ? undefined : toJsonText(body)));
        return {
          session: route.session,
          contentType: form ? 'application/x-www-form-urlencoded' : undefined,
          route: route.name,
          method: route.method,
          path,
          query: qs,
          headers: sent,
          body: route.method === 'GET' || route.method === 'DELETE' ? undefined : text,
          foreign: id.startsWith('{other.'),
        };
      });
  });

/** Unknown routes, wrong methods, long and badly encoded paths. */
const oddRequest: fc.Arbitrary<FuzzRequest> = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
    path: fc.oneof(
      fc.constantFrom(
        '/',
        '/v1',
        '/v1/nope',
        '/v1/events/x/y',
        '/v1/events/%ED%A0%80',
        '/v1/events/%',
        '/v1/webhooks/endpoints/%C0%AF/deliveries',
        '/v1/audit/entries/%ED%A0%80',
        `/v1/events/${'a'.repeat(8000)}`,
        `/${'seg/'.repeat(500)}`,
        '/v1/events/..%2F..%2Fhealthz',
        '/docs/%ED%A0%80',
        '/metrics/x',
      ),
      fc.webPath().map((p) => `/v1${p}`),
    ),
  })
  .map(({ method, path }) => ({
    route: 'odd',
    method,
    path,
    query: '',
    headers: {},
    body: method === 'POST' || method === 'PUT' ? '{}' : undefined,
    foreign: false,
  }));
