import { DomainError } from '@app/platform';
import { AiAction, canTransition, TRANSITIONS } from './ai-action';
import { ACTION_STATUSES, ActionStatus, Principal, Submission } from './ai-action.types';
import { inputHashOf } from './input-hash';
import { RiskPolicy } from './risk-policy';

const A: Principal = { type: 'api_key', id: 'approver-a' };
const B: Principal = { type: 'api_key', id: 'approver-b' };
const SUBMITTER: Principal = { type: 'api_key', id: 'submitter' };
const T0 = '2026-01-01T00:00:00.000Z';
const sign = (r: object) => ({ ...r, keyId: 'k', signature: 'sig' }) as never;

function submitted(over: Partial<Submission> = {}): AiAction {
  const input = { x: 1 };
  return AiAction.submit(
    {
      tenantId: 't',
      id: 'a',
      type: 'deal.update',
      initiator: 'autonomous',
      agent: { id: 'ag', model: null },
      requestedBy: 'u1',
      submitterKeyId: SUBMITTER.id,
      rationale: null,
      input,
      risk: 'high',
      policyVersion: 0,
      requiredApprovals: 2,
      status: 'pending_approval',
      escalation: null,
      expiresAt: '2026-01-02T00:00:00.000Z',
      inputHash: inputHashOf('deal.update', input, 'high', 0),
      receipt: null,
      ...over,
    },
    T0,
  );
}

const approve = (a: AiAction, p: Principal, extra: object = {}) =>
  a.decide({
    principal: p,
    decision: 'approve',
    reason: null,
    paused: false,
    at: T0,
    sign,
    ...extra,
  });

/** Brings a fresh action to `status` through allowed steps. */
function inStatus(status: ActionStatus): AiAction {
  const auto = status === 'auto_approved';
  const a = submitted(auto ? { status: 'auto_approved', requiredApprovals: 0 } : {});
  if (
    status === 'approved' ||
    status === 'executing' ||
    status === 'succeeded' ||
    status === 'failed'
  ) {
    approve(a, A);
    approve(a, B);
  }
  if (status === 'rejected')
    a.decide({ principal: A, decision: 'reject', reason: 'no', paused: false, at: T0, sign });
  if (status === 'expired') a.expire('2026-01-03T00:00:00.000Z');
  if (status === 'cancelled') a.cancel(SUBMITTER, 'changed mind', T0);
  if (status === 'executing') a.startExecution(T0);
  if (status === 'succeeded' || status === 'failed') {
    a.complete({ principal: SUBMITTER, status, output: {}, usage: null, at: T0 });
  }
  expect(a.status).toBe(status);
  return a;
}

/** Tries to move an action in `from` to `to` with the command that would do it. */
function attempt(a: AiAction, to: ActionStatus): void {
  const C: Principal = { type: 'api_key', id: 'approver-c' };
  switch (to) {
    case 'pending_approval':
      return a.revise(SUBMITTER, { y: 2 }, null, T0);
    case 'approved':
      if (a.status === 'pending_approval') approve(a, A);
      return approve(a, C);
    case 'rejected':
      return a.decide({
        principal: C,
        decision: 'reject',
        reason: 'r',
        paused: false,
        at: T0,
        sign,
      });
    case 'expired':
      return a.expire('2026-01-03T00:00:00.000Z');
    case 'cancelled':
      return a.cancel(SUBMITTER, null, T0);
    case 'executing':
      return a.startExecution(T0);
    case 'succeeded':
    case 'failed':
      if (a.status !== 'executing') throw new DomainError('not_executable', 'direct');
      return a.complete({ principal: SUBMITTER, status: to, output: {}, usage: null, at: T0 });
    case 'auto_approved':
      throw new DomainError('conflict', 'only a submission is auto-approved');
  }
}

describe('AiAction transition table', () => {
  const targets = ACTION_STATUSES;
  for (const from of ACTION_STATUSES) {
    for (const to of targets) {
      const allowed = canTransition(from, to);
      it(`${from} -> ${to} is ${allowed ? 'allowed' : 'refused'}`, () => {
        const a = inStatus(from);
        if (allowed) {
          attempt(a, to);
          expect(a.status).toBe(to);
        } else {
          const before = a.history.length;
          expect(() => attempt(a, to)).toThrow(DomainError);
          expect(a.status).toBe(from);
          expect(a.history.length).toBe(before);
        }
      });
    }
  }

  it('has no way out of the final states', () => {
    for (const s of ['rejected', 'expired', 'cancelled', 'succeeded', 'failed'] as const) {
      expect(TRANSITIONS[s]).toEqual([]);
    }
  });

  it('replays its steps to the same state', () => {
    const a = submitted();
    approve(a, A);
    a.revise(SUBMITTER, { y: 1 }, 'fix', T0);
    approve(a, B, { input: { y: 2 } });
    const b = AiAction.replay(a.history);
    expect([b.status, b.inputHash, b.revision, b.approvers]).toEqual([
      a.status,
      a.inputHash,
      2,
      [B],
    ]);
    expect(b.historyView().map((h) => h.void)).toEqual([
      undefined,
      true,
      undefined,
      undefined,
      false,
    ]);
  });
});

describe('AiAction decisions', () => {
  const code = (f: () => void) => {
    try {
      f();
    } catch (e) {
      return (e as DomainError).code;
    }
    return null;
  };

  it('refuses the submitting key and the requestedBy user', () => {
    expect(code(() => approve(submitted(), SUBMITTER))).toBe('separation_of_duties');
    expect(code(() => approve(submitted(), { type: 'user', id: 'u1' }))).toBe(
      'separation_of_duties',
    );
    expect(code(() => approve(submitted(), { type: 'user', id: 'u2' }))).toBeNull();
  });

  it('counts one vote per approver and refuses a completing approval while paused', () => {
    const a = submitted();
    approve(a, A);
    expect(code(() => approve(a, A))).toBe('already_decided');
    expect(code(() => approve(a, B, { paused: true }))).toBe('ai_paused');
    expect(a.status).toBe('pending_approval');
    approve(a, B);
    expect(a.status).toBe('approved');
    expect(a.receipt?.approvers).toEqual([A, B]);
  });

  it('refuses a stale inputHash and voids approvals on revision', () => {
    const a = submitted();
    expect(code(() => approve(a, A, { inputHash: 'f'.repeat(64) }))).toBe('input_changed');
    approve(a, A, { inputHash: a.inputHash });
    a.revise(SUBMITTER, { z: 1 }, null, T0);
    expect(a.approvers).toEqual([]);
    expect(a.inputHash).toBe(inputHashOf('deal.update', { z: 1 }, 'high', 0));
  });
});

describe('RiskPolicy', () => {
  const policy = (risk: 'low' | 'medium' | 'high') => ({
    type: 't.x',
    risk,
    requiredApprovals: null,
    autoApprove: null,
    version: 3,
    updatedAt: new Date(),
  });
  const base = { proposedRisk: null, paused: false, overBudget: false } as const;

  it('judges as SPEC 6 says', () => {
    expect(RiskPolicy.judge({ ...base, policy: null, initiator: 'autonomous' })).toMatchObject({
      risk: 'high',
      status: 'pending_approval',
      requiredApprovals: 2,
      policyVersion: 0,
    });
    expect(
      RiskPolicy.judge({ ...base, policy: policy('low'), initiator: 'autonomous' }),
    ).toMatchObject({
      status: 'auto_approved',
      requiredApprovals: 0,
      policyVersion: 3,
    });
    expect(
      RiskPolicy.judge({
        ...base,
        policy: policy('low'),
        proposedRisk: 'medium',
        initiator: 'autonomous',
      }),
    ).toMatchObject({
      risk: 'medium',
      requiredApprovals: 1,
    });
    expect(
      RiskPolicy.judge({
        ...base,
        policy: policy('high'),
        proposedRisk: 'low',
        initiator: 'autonomous',
      }).risk,
    ).toBe('high');
    expect(
      RiskPolicy.judge({
        ...base,
        policy: policy('low'),
        initiator: 'autonomous',
        overBudget: true,
      }),
    ).toMatchObject({
      status: 'pending_approval',
      escalation: 'budget_exceeded',
      requiredApprovals: 1,
    });
    expect(
      RiskPolicy.judge({ ...base, policy: null, initiator: 'user', paused: true }),
    ).toMatchObject({
      status: 'pending_approval',
      escalation: 'paused',
      requiredApprovals: 1,
    });
    expect(
      RiskPolicy.judge({ ...base, policy: null, initiator: 'autonomous', paused: true })
        .requiredApprovals,
    ).toBe(2);
  });
});
