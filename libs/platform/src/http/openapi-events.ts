import type { SchemaObject } from '@nestjs/swagger';

/**
 * Every event type Ledgerline emits itself, with the shape of its `data` (SPEC 3: its own
 * changes are events in the same store). The document lists them as OpenAPI 3.1 `webhooks`; the
 * README's "Event types Ledgerline emits" table lists the same types (a test keeps them equal).
 * Keep it next to the code: a new `store.record(` type belongs here.
 */
export interface EventTypeDoc {
  type: string;
  summary: string;
  /** `main`: an entry in the tenant's main chain; `ai`: in the ai chain only; null: in none. */
  chain: 'main' | 'ai' | null;
  /** Sent to the tenant's webhook endpoints that subscribe to it. */
  delivered: boolean;
  data: SchemaObject;
}

const str = (description?: string): SchemaObject => ({ type: 'string', description });
const nullableStr = (description?: string): SchemaObject => ({
  type: 'string',
  nullable: true,
  description,
});
const int = (description?: string): SchemaObject => ({ type: 'integer', description });
const obj = (
  properties: Record<string, SchemaObject>,
  required = Object.keys(properties),
): SchemaObject => ({ type: 'object', required, properties });
const anyObject: SchemaObject = { type: 'object', additionalProperties: true };
const nullableObject: SchemaObject = { type: 'object', additionalProperties: true, nullable: true };

const principal = obj({ type: { type: 'string', enum: ['api_key', 'user'] }, id: str() });
const receipt = obj({
  actionId: str(),
  tenantId: str(),
  type: str(),
  inputHash: str('lowercase hex SHA-256 of JCS({type, input, risk, policyVersion})'),
  policyVersion: int(),
  approvers: { type: 'array', items: principal },
  approvedAt: str(),
  keyId: str(),
  signature: str('base64 Ed25519 signature of JCS(receipt without signature)'),
});

const endpointData = obj({
  endpointId: str(),
  url: str(),
  eventTypes: { type: 'array', items: str() },
  description: nullableStr(),
  rateLimitPerSecond: { type: 'integer', nullable: true },
});

const lifecycleBase: Record<string, SchemaObject> = {
  actionId: str(),
  type: str('the action type, e.g. deal.update'),
  status: str(),
  risk: { type: 'string', enum: ['low', 'medium', 'high'] },
  escalation: { type: 'string', enum: ['budget_exceeded', 'paused'], nullable: true },
  agent: obj({ id: str(), model: nullableStr() }),
  initiator: { type: 'string', enum: ['user', 'autonomous'] },
  requiredApprovals: int(),
  policyVersion: int(),
  inputHash: str(),
  input: anyObject,
};

const lifecycle = (
  kind: string,
  summary: string,
  extra: Record<string, SchemaObject> = {},
): EventTypeDoc => ({
  type: `ai_action.${kind}`,
  summary,
  chain: 'main',
  delivered: true,
  data: obj({ ...lifecycleBase, ...extra }),
});

const stepBase: Record<string, SchemaObject> = {
  actionId: str(),
  seq: int('the step number within the action'),
  principal: { ...principal, nullable: true },
  reason: nullableStr(),
  inputHash: nullableStr(),
  revision: int('how many input revisions preceded this step'),
};

const step = (kind: string, extra: Record<string, SchemaObject> = {}): EventTypeDoc => ({
  type: `ai_action.step.${kind}`,
  summary: `An AI action's \`${kind}\` step, as recorded in the tenant's ai chain`,
  chain: 'ai',
  delivered: false,
  data: obj({ ...stepBase, ...extra }),
});

const bool: SchemaObject = { type: 'boolean' };
const nullableInt: SchemaObject = { type: 'integer', nullable: true };

const consentChange = (status: string, summary: string): EventTypeDoc => ({
  type: `consent.${status}`,
  summary,
  chain: 'main',
  delivered: true,
  data: obj({
    contactId: str(),
    channel: str('email, sms, whatsapp, phone or postal'),
    status: str(),
    consentLogId: str('the consent-log record'),
    source: str(),
    legalBasis: nullableStr(),
    noticeVersion: nullableStr(),
  }),
});

const messageBase: Record<string, SchemaObject> = {
  messageId: str(),
  contactId: str(),
  channel: str(),
  category: { type: 'string', enum: ['marketing', 'transactional'] },
  status: str(),
  reason: nullableStr(),
  sendAt: nullableStr(),
  consentLogId: nullableStr('the consent-log record the last gate check relied on'),
};

const messageEvent = (
  what: string,
  summary: string,
  extra: Record<string, SchemaObject>,
): EventTypeDoc => ({
  type: `messaging.message.${what}`,
  summary,
  chain: 'main',
  delivered: true,
  data: obj({ ...messageBase, ...extra }),
});

/** Consent and messaging (SPEC 7): ids and states only, never an address, subject or body. */
const CONSENT_EVENTS: EventTypeDoc[] = [
  consentChange(
    'granted',
    'A contact granted consent for a channel (or confirmed a double opt-in)',
  ),
  consentChange('withdrawn', 'A contact withdrew consent for a channel'),
  consentChange('denied', 'A contact refused consent for a channel'),
  consentChange('confirmation_requested', 'A grant waits for its double opt-in confirmation'),
  {
    type: 'consent.do_not_contact.enabled',
    summary: 'A contact was put on do-not-contact',
    chain: 'main',
    delivered: true,
    data: obj({ contactId: str() }),
  },
  {
    type: 'consent.do_not_contact.disabled',
    summary: 'A contact was taken off do-not-contact',
    chain: 'main',
    delivered: true,
    data: obj({ contactId: str() }),
  },
  {
    type: 'consent.settings.updated',
    summary: 'The consent settings were set (PUT /v1/settings/consent)',
    chain: 'main',
    delivered: true,
    data: obj({
      mode: str(),
      doubleOptIn: bool,
      timeZone: str(),
      quietHours: obj({ start: str(), end: str() }),
    }),
  },
  {
    type: 'consent.retention.updated',
    summary: 'The retention periods were set (PUT /v1/settings/retention)',
    chain: 'main',
    delivered: true,
    data: obj({ messagesDays: nullableInt, eventsDays: nullableInt }),
  },
  {
    type: 'consent.contact.erased',
    summary: "A contact's personal data was erased (API or preference centre)",
    chain: 'main',
    delivered: true,
    data: obj({ contactId: str(), source: str(), removed: anyObject }),
  },
  {
    type: 'messaging.contact.created',
    summary: 'A contact was created',
    chain: 'main',
    delivered: true,
    data: obj({ contactId: str() }),
  },
  {
    type: 'messaging.contact.updated',
    summary: 'A contact was changed (the names of the fields, not their values)',
    chain: 'main',
    delivered: true,
    data: obj({ contactId: str(), fields: { type: 'array', items: str() } }),
  },
  messageEvent(
    'accepted',
    'A message passed the consent gate: queued, or scheduled by quiet hours',
    {
      at: str('accepted'),
    },
  ),
  messageEvent('sent', 'A message was sent', { attempts: int() }),
  messageEvent('failed', 'A message could not be sent (retries used up, or no provider)', {
    attempts: int(),
    error: str(),
  }),
  messageEvent(
    'suppressed',
    'The consent gate refused a message (on acceptance or before sending)',
    {
      at: { type: 'string', enum: ['accepted', 'sending'] },
    },
  ),
];

export const EVENT_CATALOGUE: EventTypeDoc[] = [
  {
    type: 'tenant.created',
    summary: 'A tenant was created (CLI or first start)',
    chain: 'main',
    delivered: true,
    data: obj({ tenantId: str(), name: str() }),
  },
  {
    type: 'api_key.created',
    summary: 'An API key was created (the key itself is never in an event)',
    chain: 'main',
    delivered: true,
    data: obj({ apiKeyId: str(), name: str(), scopes: { type: 'array', items: str() } }),
  },
  {
    type: 'api_key.revoked',
    summary: 'An API key was revoked',
    chain: 'main',
    delivered: true,
    data: obj({ apiKeyId: str(), name: str() }),
  },
  {
    type: 'webhook.endpoint.created',
    summary: 'A webhook endpoint was created',
    chain: 'main',
    delivered: true,
    data: endpointData,
  },
  {
    type: 'webhook.endpoint.updated',
    summary: 'A webhook endpoint was changed (PATCH)',
    chain: 'main',
    delivered: true,
    data: endpointData,
  },
  {
    type: 'webhook.endpoint.deleted',
    summary: 'A webhook endpoint was deleted',
    chain: 'main',
    delivered: true,
    data: obj({ endpointId: str() }),
  },
  {
    type: 'webhook.endpoint.secret_rotated',
    summary: "An endpoint's signing secret was rotated",
    chain: 'main',
    delivered: true,
    data: obj({
      endpointId: str(),
      previousSecretExpiresAt: str('until then the old secret signs alongside the new one'),
    }),
  },
  {
    type: 'webhook.endpoint.disabled',
    summary: 'An endpoint was disabled (410 Gone, or failing for too long)',
    chain: 'main',
    delivered: true,
    data: obj({ endpointId: str(), url: str(), reason: str() }),
  },
  {
    type: 'webhook.endpoint.enabled',
    summary: 'A disabled endpoint was enabled again',
    chain: 'main',
    delivered: true,
    data: obj({ endpointId: str() }),
  },
  {
    type: 'webhook.endpoint.recovered',
    summary: 'Deliveries since a time were re-sent or created (POST …/recover)',
    chain: 'main',
    delivered: true,
    data: obj({ endpointId: str(), since: str(), resent: int(), created: int() }),
  },
  {
    type: 'webhook.endpoint.test',
    summary:
      'A test event (POST /v1/webhooks/endpoints/{id}/test): delivered to that endpoint only, ' +
      'whatever its event types',
    chain: 'main',
    delivered: true,
    data: obj({ endpointId: str(), message: str() }),
  },
  {
    type: 'audit.checkpoint',
    summary: "A signed checkpoint of a chain's head (webhooks only, in no chain)",
    chain: null,
    delivered: true,
    data: obj({
      tenantId: str(),
      chain: { type: 'string', enum: ['main', 'ai'] },
      seq: int(),
      hash: str(),
      signedAt: str(),
      signature: str('base64 Ed25519 signature of JCS({tenantId, chain, seq, hash, signedAt})'),
      keyId: str('lowercase hex SHA-256 of the signing key (SPKI DER)'),
    }),
  },
  lifecycle('pending', 'An AI action waits for approval'),
  lifecycle('approved', 'An AI action was approved or auto-approved: execute it', { receipt }),
  lifecycle('rejected', 'An AI action was rejected', { reason: nullableStr() }),
  lifecycle('expired', 'A pending AI action expired'),
  lifecycle('succeeded', 'An AI action was executed successfully', {
    output: nullableObject,
    usage: nullableObject,
  }),
  lifecycle('failed', 'An AI action failed', { output: nullableObject, usage: nullableObject }),
  {
    type: 'ai_action.policy_changed',
    summary: "An AI action type's risk policy was set (PUT /v1/ai-policies/{type})",
    chain: 'main',
    delivered: true,
    data: obj({
      type: str(),
      risk: { type: 'string', enum: ['low', 'medium', 'high'] },
      requiredApprovals: { type: 'integer', nullable: true },
      autoApprove: {
        ...obj({ max: int(), windowSeconds: int() }),
        nullable: true,
      },
      version: int(),
      updatedAt: str(),
    }),
  },
  {
    type: 'ai_action.paused',
    summary: 'The AI kill switch was turned on',
    chain: 'main',
    delivered: true,
    data: obj({ paused: { type: 'boolean' }, reason: nullableStr() }),
  },
  {
    type: 'ai_action.resumed',
    summary: 'The AI kill switch was turned off',
    chain: 'main',
    delivered: true,
    data: obj({ paused: { type: 'boolean' }, reason: nullableStr() }),
  },
  step('submitted', {
    type: str(),
    input: anyObject,
    risk: str(),
    status: str(),
    agent: obj({ id: str(), model: nullableStr() }),
    initiator: str(),
    requestedBy: nullableStr(),
    policyVersion: int(),
    requiredApprovals: int(),
    escalation: nullableStr(),
    expiresAt: str(),
  }),
  step('revised', {
    input: anyObject,
    rationale: nullableStr(),
    voided: { type: 'array', items: int(), description: 'seqs of the approvals it voided' },
  }),
  step('approved', {
    decision: { type: 'string', enum: ['approve'] },
    completesApproval: { type: 'boolean' },
  }),
  step('rejected', { decision: { type: 'string', enum: ['reject'] } }),
  step('expired'),
  step('cancelled'),
  step('executing'),
  step('succeeded', { output: anyObject, usage: nullableObject }),
  step('failed', { output: anyObject, usage: nullableObject }),
  ...CONSENT_EVENTS,
  ...[
    ['console.user_created', 'A user was created (CLI); no email in the event', { role: str() }],
    ['console.login', 'A user signed in to the console', { role: str() }],
    [
      'console.login_failed',
      'A sign-in to a known account failed (unknown emails are not events)',
      { reason: str() },
    ],
    [
      'console.locked',
      'An account was locked after five failed sign-ins in 15 minutes',
      { minutes: int() },
    ],
    ['console.logout', 'A user signed out of the console', {}],
    ['console.password_changed', 'A user changed their password', { at: str() }],
  ].map(([type, summary, extra]): EventTypeDoc => ({
    type: type as string,
    summary: summary as string,
    chain: 'main',
    delivered: true,
    data: obj({ userId: str(), ...(extra as Record<string, SchemaObject>) }),
  })),
];
