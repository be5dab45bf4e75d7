import { Ledgerline, Tenant, sleep, waitFor } from './support/ledgerline';
import { WebhookReceiver } from './support/webhook-receiver';

/**
 * SPEC 6 kill switch across processes: two APIs and two workers share one tenant. A pause made
 * through one API holds new actions on the other, refuses every approval that would complete a
 * quorum on both, and lets no `ai_action.approved` out; unpausing releases nothing by itself.
 */
describe('AI-action kill switch across 2 APIs and 2 workers', () => {
  let ll: Ledgerline;
  let receiver: WebhookReceiver;
  let t: Tenant;
  let submitter: string;
  let approverA: string;
  let approverB: string;
  let apiA: string;
  let apiB: string;

  const on = (base: string, method: string, path: string, key: string, body?: unknown) =>
    ll.request(method, path, { key, body, base });

  const action = (over: Record<string, unknown> = {}) => ({
    type: 'ks.update',
    initiator: 'autonomous',
    agent: { id: 'agent-ks' },
    input: { dealId: 'd1', amount: 10 },
    ...over,
  });

  async function submit(base: string, body: unknown) {
    const res = await on(base, 'POST', '/v1/ai-actions', submitter, body);
    expect(res.status).toBe(201);
    return res.body as { id: string; status: string; [k: string]: unknown };
  }

  /** The action ids of the `type` webhooks received so far (the event's data carries actionId). */
  const hooks = (type: string) =>
    receiver
      .received('/ks')
      .map((r) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> })
      .filter((b) => b.type === type)
      .map((b) => JSON.stringify(b.data).match(/"actionId":"([0-9a-f-]{36})"/)?.[1]);

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    ll = await Ledgerline.start({
      apis: 2,
      workers: 2,
      env: { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32' },
    });
    [apiA, apiB] = ll.apis.map((a) => `http://127.0.0.1:${a.port}`);
    t = await ll.createTenant('killswitch');
    const key = async (scopes: string[]) =>
      (await on(apiA, 'POST', '/v1/api-keys', t.apiKey, { name: 'k', scopes })).body.key as string;
    [submitter, approverA, approverB] = [
      await key(['ai-actions:submit']),
      await key(['ai-actions:decide']),
      await key(['ai-actions:decide']),
    ];
    for (const [type, risk] of [
      ['ks.update', 'medium'],
      ['ks.delete', 'high'],
      ['ks.tag', 'low'],
    ]) {
      expect((await on(apiA, 'PUT', `/v1/ai-policies/${type}`, t.apiKey, { risk })).status).toBe(
        200,
      );
    }
    const ep = await on(apiA, 'POST', '/v1/webhooks/endpoints', t.apiKey, {
      url: receiver.url('/ks'),
      eventTypes: ['ai_action.*'],
    });
    expect(ep.status).toBe(201);
  });
  afterAll(async () => {
    await ll?.stop();
    await receiver?.close();
  });

  it('pause on one API holds and blocks on both; no approved webhook; unpause releases nothing', async () => {
    // Before the pause: a medium action needing one approval, a high one with one of its two.
    const medium = await submit(apiA, action());
    const high = await submit(apiB, action({ type: 'ks.delete' }));
    expect([medium.status, high.status]).toEqual(['pending_approval', 'pending_approval']);
    const first = await on(apiA, 'POST', `/v1/ai-actions/${high.id}/decisions`, approverA, {
      decision: 'approve',
    });
    expect([first.status, first.body.status]).toEqual([200, 'pending_approval']);

    const pause = await on(apiA, 'PUT', '/v1/settings/ai', t.apiKey, {
      paused: true,
      reason: 'agent loop',
    });
    expect([pause.status, pause.body.paused]).toEqual([200, true]);
    expect((await on(apiB, 'GET', '/v1/settings/ai', t.apiKey)).body).toMatchObject({
      paused: true,
      reason: 'agent loop',
    });

    // New actions wait on the other API, whatever their risk or initiator.
    const heldUser = await submit(apiB, action({ initiator: 'user', requestedBy: 'u1' }));
    const heldLow = await submit(apiB, action({ type: 'ks.tag' }));
    const heldLowOnA = await submit(apiA, action({ type: 'ks.tag', agent: { id: 'other' } }));
    for (const held of [heldUser, heldLow, heldLowOnA]) {
      expect(held).toMatchObject({
        status: 'pending_approval',
        escalation: 'paused',
        requiredApprovals: 1,
        receipt: null,
      });
    }

    // Every approval that would complete a quorum is refused, on both APIs, and not recorded.
    const attempts: [string, string, string][] = [
      [apiB, medium.id, approverA],
      [apiA, medium.id, approverB],
      [apiA, high.id, approverB],
      [apiB, high.id, approverB],
      [apiA, heldUser.id, approverA],
      [apiB, heldLow.id, approverB],
      [apiB, heldLowOnA.id, approverA],
    ];
    for (const [base, id, approver] of attempts) {
      const res = await on(base, 'POST', `/v1/ai-actions/${id}/decisions`, approver, {
        decision: 'approve',
      });
      expect([res.status, res.body.code]).toEqual([409, 'ai_paused']);
    }
    const highNow = await on(apiB, 'GET', `/v1/ai-actions/${high.id}`, submitter);
    expect(highNow.body.status).toBe('pending_approval');
    expect(highNow.body.history.map((h: { kind: string }) => h.kind)).toEqual([
      'submitted',
      'approved',
    ]);

    // The workers deliver the pending events meanwhile: the pipeline runs, only approvals stop.
    const pendingIds = [medium, high, heldUser, heldLow, heldLowOnA].map((a) => a.id).sort();
    await waitFor('pending webhooks', async () => {
      const got = hooks('ai_action.pending');
      return pendingIds.every((id) => got.includes(id)) ? true : null;
    });

    // Unpausing (through the other API) releases nothing by itself.
    const resume = await on(apiB, 'PUT', '/v1/settings/ai', t.apiKey, { paused: false });
    expect([resume.status, resume.body.paused]).toEqual([200, false]);
    await sleep(1500);
    for (const a of [medium, high, heldUser, heldLow, heldLowOnA]) {
      const now = await on(apiA, 'GET', `/v1/ai-actions/${a.id}`, submitter);
      expect([a.id, now.body.status]).toEqual([a.id, 'pending_approval']);
    }
    expect(hooks('ai_action.approved')).toEqual([]);

    // Approvals given now complete, and only then does an approved event go out.
    const ok = await on(apiB, 'POST', `/v1/ai-actions/${medium.id}/decisions`, approverA, {
      decision: 'approve',
    });
    expect([ok.status, ok.body.status]).toEqual([200, 'approved']);
    const approved = await waitFor('the approved webhook', async () => {
      const got = hooks('ai_action.approved');
      return got.length ? got : null;
    });
    expect(approved).toEqual([medium.id]);
  });
});
