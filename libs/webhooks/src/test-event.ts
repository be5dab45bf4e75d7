/**
 * "Send test event" (POST /v1/webhooks/endpoints/{id}/test): the event is recorded like any of
 * Ledgerline's own changes (so it is audited), but its one delivery is created by the request,
 * for that endpoint only. Fan-out and recovery skip the type, so no other endpoint (not even a
 * `*` subscriber) receives another endpoint's test.
 */
export const TEST_EVENT_TYPE = 'webhook.endpoint.test';

export const TEST_EVENT_MESSAGE =
  'A test event from Ledgerline: your endpoint receives and verifies deliveries.';

export const isDirectOnlyType = (type: string): boolean => type === TEST_EVENT_TYPE;
