import { AttemptRecord, streakChanges } from './attempt-recorder';

const rec = (endpointId: string, ok: boolean): AttemptRecord => ({
  tenantId: 't',
  attemptId: 'a',
  deliveryId: 'd',
  endpointId,
  attempt: 0,
  statusCode: ok ? 200 : 500,
  durationMs: 1,
  error: ok ? null : 'http_500',
  responseBody: null,
  ok,
  status: ok ? 'succeeded' : 'pending',
  delayMs: 0,
});

describe('streakChanges', () => {
  it('counts failures after the last success per endpoint', () => {
    const changes = streakChanges([
      rec('a', false),
      rec('a', true),
      rec('a', false),
      rec('b', false),
      rec('b', false),
      rec('c', true),
    ]);
    expect(changes).toEqual([
      { tenantId: 't', endpointId: 'a', reset: true, trailing: 1 },
      { tenantId: 't', endpointId: 'b', reset: false, trailing: 2 },
      { tenantId: 't', endpointId: 'c', reset: true, trailing: 0 },
    ]);
  });
});
