import { Escalation, Initiator, Risk, RISKS } from './ai-action.types';

export interface AutoApproveBudget {
  max: number;
  windowSeconds: number;
}

/** A tenant's policy for one action type; `version` grows on every accepted change. */
export interface AiPolicy {
  type: string;
  risk: Risk;
  requiredApprovals: number | null;
  autoApprove: AutoApproveBudget | null;
  version: number;
  updatedAt: Date;
}

export const DEFAULT_APPROVALS: Record<Risk, number> = { low: 1, medium: 1, high: 2 };

export interface Judgement {
  risk: Risk;
  policyVersion: number;
  status: 'pending_approval' | 'auto_approved';
  requiredApprovals: number;
  escalation: Escalation | null;
}

export interface JudgeInput {
  policy: AiPolicy | null;
  proposedRisk: Risk | null;
  initiator: Initiator;
  paused: boolean;
  /** Whether one more auto-approval would exceed the type's budget for this agent. */
  overBudget: boolean;
}

const higher = (a: Risk, b: Risk): Risk => (RISKS.indexOf(a) >= RISKS.indexOf(b) ? a : b);

/**
 * SPEC 6: an unknown type is high; proposedRisk only raises; user-initiated and autonomous low
 * actions are auto-approved unless paused or over budget; the others wait for approvers.
 */
export class RiskPolicy {
  static finalRisk(policy: AiPolicy | null, proposedRisk: Risk | null): Risk {
    const base = policy?.risk ?? 'high';
    return proposedRisk ? higher(base, proposedRisk) : base;
  }

  /** Whether the action would be auto-approved were it not for the budget and the pause. */
  static wouldAutoApprove(initiator: Initiator, risk: Risk): boolean {
    return initiator === 'user' || risk === 'low';
  }

  static judge(input: JudgeInput): Judgement {
    const risk = RiskPolicy.finalRisk(input.policy, input.proposedRisk);
    const policyVersion = input.policy?.version ?? 0;
    const approvals = Math.max(input.policy?.requiredApprovals ?? 0, DEFAULT_APPROVALS[risk]);
    const auto = RiskPolicy.wouldAutoApprove(input.initiator, risk);
    const pending = (requiredApprovals: number, escalation: Escalation | null): Judgement => ({
      risk,
      policyVersion,
      status: 'pending_approval',
      requiredApprovals,
      escalation,
    });
    if (input.paused) return pending(auto ? 1 : approvals, 'paused');
    if (!auto) return pending(approvals, null);
    if (input.initiator === 'autonomous' && input.overBudget) return pending(1, 'budget_exceeded');
    return { risk, policyVersion, status: 'auto_approved', requiredApprovals: 0, escalation: null };
  }
}
