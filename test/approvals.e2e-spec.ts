import canonicalize from 'canonicalize';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { Ledgerline, Tenant, sleep, waitFor } from './support/ledgerline';
import { WebhookReceiver } from './support/webhook-receiver';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const tool = require('./tools/verify-chain.js') as {
  verify(exportFile: string): Promise<{ ok: boolean; entries: number }>;
};

/** SPEC 6, written independently of the service: SHA-256 of JCS({type, input, risk, policyVersion}). */
const inputHash = (type: string, input: object, risk: string, policyVersion: number) =>
  createHash('sha256').update(canonicalize({ type, input, risk, policyVersion })!).digest('hex');

/** A receipt checked with node:crypto and the public key of GET /v1/audit/public-key only. */
function receiptValid(receipt: Record<string, unknown>, publicKeyPem: string): boolean {
  const { signature, ...signed } = receipt;
  return verify(
    null,
    Buffer.from(canonicalize(signed)!),
    createPublicKey(publicKeyPem),
    Buffer.from(signature as string, 'base64'),
  );
}

const action = (over: Record<string, unknown> = {}) => ({
  type: 'deal.update',
  initiator: 'autonomous',
  agent: { id: 'agent-1', model: 'm-1' },
  input: { dealId: 'd1', amount: 1200 },
  rationale: 'the customer asked',
  ...over,
});

describe('AI-action approval queue', () => {
  let ll: Ledgerline;
  let receiver: WebhookReceiver;
  let t: Tenant;
  let submitter: string;
  let approverA: string;
  let approverB: string;
  let publicKey: string;

  const req = (method: string, path: string, key: string, body?: unknown) =>
    ll.request(method, path, { key, body });

  async function key(scopes: string[], tenant = t): Promise<string> {
    const res = await req('POST', '/v1/api-keys', tenant.apiKey, { name: 'k', scopes });
    expect(res.status).toBe(201);
    return res.body.key as string;
  }

  async function submit(body: unknown, k = submitter) {
    const res = await req('POST', '/v1/ai-actions', k, body);
    expect(res.status).toBe(201);
    return res.body;
  }

  const decide = (id: string, k: string, body: Record<string, unknown>) =>
    req('POST', `/v1/ai-actions/${id}/decisions`, k, body);

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    ll = await Ledgerline.start({
      apis: 2,
      env: {
        WEBHOOK_ALLOW_HTTP: 'true',
        WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32',
        AUDIT_CHECKPOINT_INTERVAL_MS: '500',
      },
    });
    t = await ll.createTenant('approvals');
    [submitter, approverA, approverB] = await Promise.all([
      key(['ai-actions:submit']),
      key(['ai-actions:decide']),
      key(['ai-actions:decide']),
    ]);
    publicKey = (await req('GET', '/v1/audit/public-key', t.apiKey)).body.publicKey;
  });
  afterAll(async () => {
    await ll?.stop();
    await receiver?.close();
  });

  it('judges risk: unknown types high (2 approvals), proposedRisk only raises, policy versions', async () => {
    const unknown = await submit(action({ type: 'records.delete' }));
    expect(unknown).toMatchObject({
      type: 'records.delete',
      risk: 'high',
      status: 'pending_approval',
      requiredApprovals: 2,
      policyVersion: 0,
    });
    expect(unknown.inputHash).toBe(inputHash('records.delete', action().input, 'high', 0));

    const p1 = await req('PUT', '/v1/ai-policies/crm.note', t.apiKey, { risk: 'low' });
    expect(p1.status).toBe(200);
    expect(p1.body).toMatchObject({ type: 'crm.note', risk: 'low', version: 1, autoApprove: null });
    const p2 = await req('PUT', '/v1/ai-policies/crm.note', t.apiKey, { risk: 'medium' });
    expect(p2.body.version).toBe(2);
    const medium = await submit(action({ type: 'crm.note' }));
    expect(medium).toMatchObject({ risk: 'medium', requiredApprovals: 1, policyVersion: 2 });
    const raised = await submit(action({ type: 'crm.note', proposedRisk: 'high' }));
    expect(raised).toMatchObject({ risk: 'high', requiredApprovals: 2 });
    const notLowered = await submit(action({ type: 'crm.note', proposedRisk: 'low' }));
    expect(notLowered.risk).toBe('medium');
    // A later policy change does not touch actions already submitted.
    await req('PUT', '/v1/ai-policies/crm.note', t.apiKey, { risk: 'low' });
    const again = await req('GET', `/v1/ai-actions/${medium.id}`, submitter);
    expect(again.body).toMatchObject({
      risk: 'medium',
      policyVersion: 2,
      status: 'pending_approval',
    });
    const list = await req('GET', '/v1/ai-policies', t.apiKey);
    expect(list.body.data.find((p: { type: string }) => p.type === 'crm.note').version).toBe(3);
  });

  it('auto-approves user-initiated and autonomous low actions with a receipt that node:crypto verifies', async () => {
    await req('PUT', '/v1/ai-policies/crm.tag', t.apiKey, { risk: 'low' });
    const low = await submit(action({ type: 'crm.tag' }));
    expect(low).toMatchObject({ status: 'auto_approved', requiredApprovals: 0 });
    expect(receiptValid(low.receipt, publicKey)).toBe(true);
    expect(low.receipt).toMatchObject({
      actionId: low.id,
      tenantId: t.tenantId,
      type: 'crm.tag',
      inputHash: low.inputHash,
      policyVersion: 1,
      approvers: [],
    });
    const user = await submit(action({ initiator: 'user', requestedBy: 'u_7' }));
    expect(user).toMatchObject({ status: 'auto_approved', risk: 'high', requiredApprovals: 0 });
    const noUser = await req('POST', '/v1/ai-actions', submitter, action({ initiator: 'user' }));
    expect(noUser.status).toBe(400);
    expect(noUser.body.code).toBe('validation_failed');
    // A tampered receipt fails.
    expect(receiptValid({ ...low.receipt, inputHash: '0'.repeat(64) }, publicKey)).toBe(false);
  });

  it('decides: separation of duties, one vote each, quorum, not_pending, and a receipt naming the approvers', async () => {
    const a = await submit(action({ type: 'refund.issue' }));
    expect((await decide(a.id, submitter, { decision: 'approve', reason: 'x' })).status).toBe(403);
    const own = await decide(a.id, t.apiKey, { decision: 'approve', reason: 'x' });
    expect(own.status).toBe(200); // the admin key is not the submitting key
    const twice = await decide(a.id, t.apiKey, { decision: 'approve', reason: 'x' });
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('already_decided');
    const second = await decide(a.id, approverA, { decision: 'approve', reason: 'ok' });
    expect(second.status).toBe(200);
    expect(second.body.status).toBe('approved');
    expect(second.body.receipt.approvers).toHaveLength(2);
    expect(receiptValid(second.body.receipt, publicKey)).toBe(true);
    const late = await decide(a.id, approverB, { decision: 'approve', reason: 'late' });
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('not_pending');

    const sod = await submit(action({ type: 'refund.issue' }));
    const denied = await decide(sod.id, submitter, { decision: 'approve' });
    expect([denied.status, denied.body.code]).toEqual([403, 'insufficient_scope']);
    const both = await key(['ai-actions:submit', 'ai-actions:decide']);
    const mine = await submit(action({ type: 'refund.issue' }), both);
    const self = await decide(mine.id, both, { decision: 'approve' });
    expect([self.status, self.body.code]).toEqual([403, 'separation_of_duties']);
  });

  it('one rejection rejects; a rejection needs a reason', async () => {
    const a = await submit(action({ type: 'refund.issue' }));
    const bare = await decide(a.id, approverA, { decision: 'reject' });
    expect([bare.status, bare.body.code]).toEqual([400, 'validation_failed']);
    const blank = await decide(a.id, approverA, { decision: 'reject', reason: '   ' });
    expect(blank.status).toBe(400);
    const rej = await decide(a.id, approverA, { decision: 'reject', reason: 'too much' });
    expect(rej.body.status).toBe('rejected');
    const detail = await req('GET', `/v1/ai-actions/${a.id}`, approverB);
    expect(detail.body.history.map((h: { kind: string }) => h.kind)).toEqual([
      'submitted',
      'rejected',
    ]);
    expect(detail.body.history[1]).toMatchObject({
      reason: 'too much',
      principal: { type: 'api_key' },
    });
  });

  it('binds approvals to the input: stale hashes, revisions void approvals, approve with edits', async () => {
    const a = await submit(action({ type: 'refund.issue' }));
    const stale = await decide(a.id, approverA, { decision: 'approve', inputHash: 'a'.repeat(64) });
    expect([stale.status, stale.body.code]).toEqual([409, 'input_changed']);
    const first = await decide(a.id, approverA, { decision: 'approve', inputHash: a.inputHash });
    expect(first.status).toBe(200);
    const other = await req('PUT', `/v1/ai-actions/${a.id}/input`, t.apiKey, { input: { x: 1 } });
    expect([other.status, other.body.code]).toEqual([403, 'not_submitter']);
    const newInput = { dealId: 'd1', amount: 900 };
    const revised = await req('PUT', `/v1/ai-actions/${a.id}/input`, submitter, {
      input: newInput,
    });
    expect(revised.status).toBe(200);
    expect(revised.body.inputHash).toBe(inputHash('refund.issue', newInput, 'high', 0));
    expect(revised.body.approvals).toEqual([]);
    const old = await decide(a.id, approverB, { decision: 'approve', inputHash: a.inputHash });
    expect(old.body.code).toBe('input_changed');
    // approverA's approval was void: they may approve again, and it is needed with B's.
    expect((await decide(a.id, approverA, { decision: 'approve' })).body.status).toBe(
      'pending_approval',
    );
    // Approve with edits by B: a revision by B plus B's approval; A's approval is void again.
    const edited = { dealId: 'd1', amount: 850 };
    const withEdits = await decide(a.id, approverB, { decision: 'approve', input: edited });
    expect(withEdits.status).toBe(200);
    expect(withEdits.body.inputHash).toBe(inputHash('refund.issue', edited, 'high', 0));
    expect(withEdits.body.status).toBe('pending_approval');
    const done = await decide(a.id, approverA, {
      decision: 'approve',
      inputHash: withEdits.body.inputHash,
    });
    expect(done.body.status).toBe('approved');
    expect(done.body.receipt.inputHash).toBe(inputHash('refund.issue', edited, 'high', 0));
    const detail = await req('GET', `/v1/ai-actions/${a.id}`, submitter);
    const h = detail.body.history as { kind: string; void?: boolean }[];
    expect(h.map((x) => [x.kind, x.void ?? null])).toEqual([
      ['submitted', null],
      ['approved', true],
      ['revised', null],
      ['approved', true],
      ['revised', null],
      ['approved', false],
      ['approved', false],
    ]);
    const notPending = await req('PUT', `/v1/ai-actions/${a.id}/input`, submitter, { input: {} });
    expect(notPending.body.code).toBe('not_pending');
  });

  it('budgets escalate a runaway agent, counted across two API processes', async () => {
    await req('PUT', '/v1/ai-policies/crm.ping', t.apiKey, {
      risk: 'low',
      autoApprove: { max: 5, windowSeconds: 600 },
    });
    const bases = ll.apis.map((a) => `http://127.0.0.1:${a.port}`);
    // Two runaway agents at once: their submissions share group commits, each keeps its own count.
    const agentOf = (i: number) => (i % 3 === 2 ? 'runaway-2' : 'runaway');
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        ll.request('POST', '/v1/ai-actions', {
          key: submitter,
          base: bases[i % 2],
          body: action({ type: 'crm.ping', agent: { id: agentOf(i) } }),
        }),
      ),
    );
    for (const agent of ['runaway', 'runaway-2']) {
      const mine = answers.filter((a) => a.body.agent?.id === agent);
      expect(mine).toHaveLength(agent === 'runaway' ? 20 : 10);
      expect(mine.filter((a) => a.body.status === 'auto_approved')).toHaveLength(5);
      const escalated = mine.filter((a) => a.body.status === 'pending_approval');
      expect(escalated).toHaveLength(mine.length - 5);
      for (const e of escalated) {
        expect(e.body).toMatchObject({ escalation: 'budget_exceeded', requiredApprovals: 1 });
      }
    }
    // Another agent has its own budget.
    expect((await submit(action({ type: 'crm.ping', agent: { id: 'calm' } }))).status).toBe(
      'auto_approved',
    );
  });

  it('outcome closes an approved action once; anything else is not_executable', async () => {
    await req('PUT', '/v1/ai-policies/crm.low', t.apiKey, { risk: 'low' });
    const a = await submit(action({ type: 'crm.low' }));
    const pending = await submit(action({ type: 'refund.issue' }));
    const early = await req('POST', `/v1/ai-actions/${pending.id}/outcome`, submitter, {
      status: 'succeeded',
      output: {},
    });
    expect([early.status, early.body.code]).toEqual([409, 'not_executable']);
    const stale = await req('POST', `/v1/ai-actions/${a.id}/outcome`, submitter, {
      status: 'succeeded',
      output: {},
      inputHash: 'b'.repeat(64),
    });
    expect(stale.body.code).toBe('input_changed');
    const ok = await req('POST', `/v1/ai-actions/${a.id}/outcome`, submitter, {
      status: 'succeeded',
      output: { noteId: 'n1' },
      usage: { tokens: 12 },
      inputHash: a.inputHash,
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      status: 'succeeded',
      output: { noteId: 'n1' },
      usage: { tokens: 12 },
    });
    const again = await req('POST', `/v1/ai-actions/${a.id}/outcome`, submitter, {
      status: 'failed',
      output: {},
    });
    expect(again.body.code).toBe('not_executable');
    const h = (await req('GET', `/v1/ai-actions/${a.id}`, submitter)).body.history;
    expect(h.map((x: { kind: string }) => x.kind)).toEqual(['submitted', 'executing', 'succeeded']);
  });

  it('the kill switch holds new actions, refuses completing approvals, and is audited', async () => {
    await req('PUT', '/v1/ai-policies/kill.test', t.apiKey, { risk: 'medium' });
    const before = await submit(action({ type: 'kill.test' }));
    const paused = await req('PUT', '/v1/settings/ai', t.apiKey, {
      paused: true,
      reason: 'incident',
    });
    expect(paused.status).toBe(200);
    expect((await req('GET', '/v1/settings/ai', t.apiKey)).body).toMatchObject({
      paused: true,
      reason: 'incident',
    });
    const base1 = `http://127.0.0.1:${ll.apis[1].port}`;
    const held = await ll.request('POST', '/v1/ai-actions', {
      key: submitter,
      base: base1,
      body: action({ initiator: 'user', requestedBy: 'u1' }),
    });
    expect(held.body).toMatchObject({
      status: 'pending_approval',
      escalation: 'paused',
      requiredApprovals: 1,
    });
    expect(held.body.receipt).toBeNull();
    const blocked = await decide(before.id, approverA, { decision: 'approve' });
    expect([blocked.status, blocked.body.code]).toEqual([409, 'ai_paused']);
    const rej = await decide(held.body.id, approverA, {
      decision: 'reject',
      reason: 'paused anyway',
    });
    expect(rej.body.status).toBe('rejected');
    await req('PUT', '/v1/settings/ai', t.apiKey, { paused: false });
    const after = await req('GET', `/v1/ai-actions/${before.id}`, submitter);
    expect(after.body.status).toBe('pending_approval'); // unpausing releases nothing
    expect((await decide(before.id, approverA, { decision: 'approve' })).body.status).toBe(
      'approved',
    );
    const main = await waitFor('pause events in main', async () => {
      const r = await req('GET', '/v1/audit/entries?chain=main&type=ai_action.paused', t.apiKey);
      return r.body.data.length ? r.body.data : null;
    });
    expect(main[0].data).toEqual({ paused: true, reason: 'incident' });
  });

  it('delivers lifecycle events to webhooks with the receipt, audits them in main, steps in ai', async () => {
    const ep = await req('POST', '/v1/webhooks/endpoints', t.apiKey, {
      url: receiver.url('/ai'),
      eventTypes: ['ai_action.*'],
    });
    expect(ep.status).toBe(201);
    await req('PUT', '/v1/ai-policies/crm.hook', t.apiKey, { risk: 'medium' });
    const a = await submit(action({ type: 'crm.hook' }));
    await decide(a.id, approverA, { decision: 'approve', reason: 'fine' });
    const wh = new Webhook(ep.body.secret);
    const got = await waitFor('pending and approved webhooks', async () => {
      const mine = receiver.requests.filter((r) => r.path === '/ai' && r.body.includes(a.id));
      return mine.length >= 2 ? mine : null;
    });
    await sleep(500);
    const types = receiver.requests
      .filter((r) => r.path === '/ai' && r.body.includes(a.id))
      .map((r) => JSON.parse(r.body).type);
    expect(types.sort()).toEqual(['ai_action.approved', 'ai_action.pending']); // no step records
    const approved = got
      .map((r) => wh.verify(r.body, r.headers) as { type: string; data: any })
      .find((b) => b.type === 'ai_action.approved')!;
    expect(approved.data.data.actionId).toBe(a.id);
    expect(receiptValid(approved.data.data.receipt, publicKey)).toBe(true);
    expect(approved.data.data.receipt.inputHash).toBe(inputHash('crm.hook', a.input, 'medium', 1));

    const ai = await waitFor('ai chain entries', async () => {
      const r = await req('GET', '/v1/audit/entries?chain=ai&limit=500', t.apiKey);
      const mine = r.body.data.filter((e: any) => e.data.actionId === a.id);
      return mine.length >= 2 ? mine : null;
    });
    expect(ai.map((e: any) => e.type).sort()).toEqual([
      'ai_action.step.approved',
      'ai_action.step.submitted',
    ]);
    const decision = ai.find((e: any) => e.type === 'ai_action.step.approved');
    expect(decision.data).toMatchObject({
      reason: 'fine',
      inputHash: a.inputHash,
      principal: { type: 'api_key' },
    });
    const mainSteps = await req(
      'GET',
      '/v1/audit/entries?chain=main&type=ai_action.step.submitted',
      t.apiKey,
    );
    expect(mainSteps.body.data).toEqual([]);
    const lifecycle = await req(
      'GET',
      '/v1/audit/entries?chain=main&type=ai_action.approved',
      t.apiKey,
    );
    expect(lifecycle.body.data.some((e: any) => e.data.actionId === a.id)).toBe(true);
  });

  it('the ai chain is redacted, verifies, exports and is recomputed by verify-chain.js', async () => {
    await submit(action({ type: 'mail.draft', input: { to: 'jane@example.com', body: 'hi' } }));
    await waitFor('ai chain caught up', async () => {
      const r = await req(
        'GET',
        '/v1/audit/entries?chain=ai&type=ai_action.step.submitted',
        t.apiKey,
      );
      return r.body.data.some((e: any) => e.data.type === 'mail.draft');
    });
    const entry = (
      await req('GET', '/v1/audit/entries?chain=ai&type=ai_action.step.submitted', t.apiKey)
    ).body.data.find((e: any) => e.data.type === 'mail.draft');
    expect(entry.data.input.to).toBe('[redacted:email]');
    const v = await req('GET', '/v1/audit/verify?chain=ai', t.apiKey);
    expect(v.body).toMatchObject({ ok: true, chain: 'ai' });
    expect(v.body.entries).toBeGreaterThan(20);
    const exp = await ll.request('GET', '/v1/audit/export?chain=ai', { key: t.apiKey });
    const dir = mkdtempSync(join(tmpdir(), 'ai-chain-'));
    try {
      const file = join(dir, 'ai.ndjson');
      writeFileSync(file, exp.text);
      const res = await tool.verify(file);
      expect(res).toMatchObject({ ok: true, entries: v.body.entries });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const cps = await waitFor('an ai checkpoint', async () => {
      const r = await req('GET', '/v1/audit/checkpoints?chain=ai', t.apiKey);
      return r.body.data?.length ? r.body.data : null;
    });
    expect(cps[0].chain).toBe('ai');
  });

  it('lists the queue oldest first with filters and cursors, scoped to the tenant', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await submit(action({ type: 'queue.probe', agent: { id: 'lister' } }))).id);
    const page1 = await req(
      'GET',
      '/v1/ai-actions?status=pending_approval&type=queue.probe&agentId=lister&risk=high&limit=2',
      approverA,
    );
    expect(page1.body.data.map((a: { id: string }) => a.id)).toEqual(ids.slice(0, 2));
    const page2 = await req(
      'GET',
      `/v1/ai-actions?status=pending_approval&type=queue.probe&limit=2&cursor=${page1.body.nextCursor}`,
      approverA,
    );
    expect(page2.body.data.map((a: { id: string }) => a.id)).toEqual([ids[2]]);
    expect(page2.body.nextCursor).toBeNull();
    const other = await ll.createTenant('other');
    expect((await req('GET', `/v1/ai-actions/${ids[0]}`, other.apiKey)).status).toBe(404);
    expect((await decide(ids[0], other.apiKey, { decision: 'approve' })).status).toBe(404);
    expect((await req('GET', '/v1/ai-actions?type=queue.probe', other.apiKey)).body.data).toEqual(
      [],
    );
  });

  it('answers every bad input with 4xx problem+json and changes nothing', async () => {
    const a = await submit(action({ type: 'refund.issue' }));
    const bad: [string, string, unknown][] = [
      ['POST', '/v1/ai-actions', action({ type: 'Bad Type' })],
      ['POST', '/v1/ai-actions', action({ initiator: 'robot' })],
      ['POST', '/v1/ai-actions', action({ input: [1, 2] })],
      ['POST', '/v1/ai-actions', action({ input: 'x' })],
      ['POST', '/v1/ai-actions', action({ agent: [] })],
      ['POST', '/v1/ai-actions', action({ agent: { id: 5 } })],
      ['POST', '/v1/ai-actions', action({ proposedRisk: 'extreme' })],
      ['POST', '/v1/ai-actions', action({ expiresInSeconds: -1 })],
      ['POST', '/v1/ai-actions', action({ expiresInSeconds: '10' })],
      ['POST', '/v1/ai-actions', action({ extra: true })],
      ['POST', '/v1/ai-actions', action({ input: { big: 'x'.repeat(70 * 1024) } })],
      ['POST', '/v1/ai-actions', [action()]],
      ['POST', `/v1/ai-actions/${a.id}/decisions`, { decision: 'maybe' }],
      ['POST', `/v1/ai-actions/${a.id}/decisions`, { decision: 'approve', inputHash: 'XYZ' }],
      ['POST', `/v1/ai-actions/${a.id}/decisions`, { decision: 'approve', input: [1] }],
      ['POST', `/v1/ai-actions/${a.id}/decisions`, { decision: 'approve', extra: 1 }],
      ['POST', `/v1/ai-actions/${a.id}/outcome`, { status: 'done', output: {} }],
      ['POST', `/v1/ai-actions/${a.id}/outcome`, { status: 'succeeded', output: [] }],
      ['PUT', `/v1/ai-actions/${a.id}/input`, { input: null }],
      ['PUT', `/v1/ai-actions/${a.id}/input`, { input: { a: 1 }, extra: 1 }],
      ['PUT', '/v1/ai-policies/Bad', { risk: 'low' }],
      ['PUT', '/v1/ai-policies/x.y', { risk: 'none' }],
      ['PUT', '/v1/ai-policies/x.y', { risk: 'low', autoApprove: { max: 0, windowSeconds: 1 } }],
      ['PUT', '/v1/ai-policies/x.y', { risk: 'low', autoApprove: [] }],
      ['PUT', '/v1/ai-policies/x.y', { risk: 'low', requiredApprovals: 1.5 }],
      ['PUT', '/v1/settings/ai', { paused: 'yes' }],
      ['PUT', '/v1/settings/ai', { paused: true }],
      ['GET', '/v1/ai-actions?status=nope', undefined],
      ['GET', '/v1/ai-actions?limit=0', undefined],
      ['GET', '/v1/ai-actions?cursor=@@@', undefined],
      ['GET', '/v1/ai-actions/not-a-uuid', undefined],
      ['GET', '/v1/ai-actions/00000000-0000-7000-8000-000000000000', undefined],
    ];
    for (const [method, path, body] of bad) {
      const res = await req(method, path, t.apiKey, body);
      if (res.status < 400 || res.status >= 500)
        throw new Error(`${method} ${path} ${JSON.stringify(body)?.slice(0, 80)} -> ${res.status}`);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    const still = await req('GET', `/v1/ai-actions/${a.id}`, t.apiKey);
    expect(still.body.history).toHaveLength(1);
    expect(
      (await req('GET', '/v1/ai-policies', t.apiKey)).body.data.some(
        (p: { type: string }) => p.type === 'x.y',
      ),
    ).toBe(false);
  });

  it('expires a pending action within 10 s of its deadline, and it never executes', async () => {
    const a = await submit(action({ type: 'refund.issue', expiresInSeconds: 2 }));
    const deadline = Date.parse(a.expiresAt);
    const expired = await waitFor(
      'expired',
      async () => {
        const r = await req('GET', `/v1/ai-actions/${a.id}`, submitter);
        return r.body.status === 'expired' ? r.body : null;
      },
      20000,
    );
    expect(Date.now() - deadline).toBeLessThan(10000);
    expect(expired.history.map((h: { kind: string }) => h.kind)).toEqual(['submitted', 'expired']);
    const out = await req('POST', `/v1/ai-actions/${a.id}/outcome`, submitter, {
      status: 'succeeded',
      output: {},
    });
    expect(out.body.code).toBe('not_executable');
    expect((await decide(a.id, approverA, { decision: 'approve' })).body.code).toBe('not_pending');
  });
});
