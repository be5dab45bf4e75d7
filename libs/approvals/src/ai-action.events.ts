import { Actor, SystemEvent } from '@app/events';
import { AiAction } from './ai-action';
import { ActionStep } from './ai-action.types';
import { toView } from './ai-action.view';

/** The per-step records go to the tenant's `ai` chain only (never to `main` or to webhooks). */
export const AI_STEP_PREFIX = 'ai_action.step.';

const SYSTEM: Actor = { type: 'system', id: 'ledgerline' };

function actorOf(action: AiAction, step: ActionStep): Actor {
  if (step.principal?.type === 'api_key')
    return { type: 'service', id: `api_key:${step.principal.id}` };
  if (step.principal?.type === 'user') return { type: 'user', id: step.principal.id };
  if (step.kind === 'submitted') return { type: 'ai_agent', id: action.submission.agent.id };
  return SYSTEM;
}

function stepData(action: AiAction, step: ActionStep): Record<string, unknown> {
  const base = {
    actionId: action.id,
    seq: step.seq,
    principal: step.principal,
    reason: step.reason,
    inputHash: step.inputHash,
    revision: step.revision,
  };
  const d = step.data;
  switch (d.kind) {
    case 'submitted': {
      const s = d.submission;
      return {
        ...base,
        type: s.type,
        input: s.input,
        risk: s.risk,
        status: s.status,
        agent: s.agent,
        initiator: s.initiator,
        requestedBy: s.requestedBy,
        policyVersion: s.policyVersion,
        requiredApprovals: s.requiredApprovals,
        escalation: s.escalation,
        expiresAt: s.expiresAt,
      };
    }
    case 'revised':
      return { ...base, input: d.input, rationale: d.rationale, voided: d.voided };
    case 'approved':
      return { ...base, decision: 'approve', completesApproval: d.receipt !== null };
    case 'rejected':
      return { ...base, decision: 'reject' };
    case 'succeeded':
    case 'failed':
      return { ...base, output: d.output, usage: d.usage };
    default:
      return base;
  }
}

/** The lifecycle event a step causes (SPEC 6), if any: audited in `main`, sent to webhooks. */
function lifecycleType(action: AiAction, step: ActionStep): string | null {
  const d = step.data;
  if (d.kind === 'submitted')
    return d.submission.status === 'auto_approved' ? 'approved' : 'pending';
  if (d.kind === 'approved') return d.receipt ? 'approved' : null;
  if (['rejected', 'expired', 'succeeded', 'failed'].includes(d.kind)) return d.kind;
  return null;
}

/** Every new step of the action as events: its `ai` chain record and its lifecycle event. */
export function eventsOf(action: AiAction): SystemEvent[] {
  const events: SystemEvent[] = [];
  const view = toView(action);
  const tenantId = action.submission.tenantId;
  const subject = `ai_action/${action.id}`;
  for (const step of action.newSteps) {
    const actor = actorOf(action, step);
    events.push({
      tenantId,
      type: `${AI_STEP_PREFIX}${step.kind}`,
      subject,
      actor,
      data: stepData(action, step),
    });
    const lifecycle = lifecycleType(action, step);
    if (!lifecycle) continue;
    events.push({
      tenantId,
      type: `ai_action.${lifecycle}`,
      subject,
      actor,
      data: {
        actionId: action.id,
        type: view.type,
        status: view.status,
        risk: view.risk,
        escalation: view.escalation,
        agent: view.agent,
        initiator: view.initiator,
        requiredApprovals: view.requiredApprovals,
        policyVersion: view.policyVersion,
        inputHash: view.inputHash,
        input: view.input,
        ...(lifecycle === 'approved' ? { receipt: view.receipt } : {}),
        ...(lifecycle === 'rejected' ? { reason: step.reason } : {}),
        ...(lifecycle === 'succeeded' || lifecycle === 'failed'
          ? { output: view.output, usage: view.usage }
          : {}),
      },
    });
  }
  return events;
}
