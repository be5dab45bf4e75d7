import { AiAction } from './ai-action';
import {
  ActionStatus,
  Agent,
  Escalation,
  HistoryItem,
  Initiator,
  Principal,
  Receipt,
  Risk,
} from './ai-action.types';

/** An action as the API shows it; the queue table keeps it as the projection of the steps. */
export interface AiActionView {
  id: string;
  type: string;
  initiator: Initiator;
  agent: Agent;
  requestedBy: string | null;
  rationale: string | null;
  input: Record<string, unknown>;
  risk: Risk;
  status: ActionStatus;
  escalation: Escalation | null;
  policyVersion: number;
  inputHash: string;
  requiredApprovals: number;
  approvals: Principal[];
  receipt: Receipt | null;
  output: Record<string, unknown> | null;
  usage: Record<string, unknown> | null;
  expiresAt: string;
  createdAt: string;
  updatedAt: string;
}

export type AiActionDetail = AiActionView & { history: HistoryItem[] };

export function toView(action: AiAction): AiActionView {
  const s = action.submission;
  const steps = action.history;
  const last = steps[steps.length - 1];
  const outcome = steps.find((st) => st.kind === 'succeeded' || st.kind === 'failed');
  const result = outcome?.data.kind === 'succeeded' || outcome?.data.kind === 'failed';
  let rationale = s.rationale;
  for (const st of steps) {
    if (st.data.kind === 'revised' && st.data.rationale !== null) rationale = st.data.rationale;
  }
  return {
    id: s.id,
    type: s.type,
    initiator: s.initiator,
    agent: s.agent,
    requestedBy: s.requestedBy,
    rationale,
    input: action.input,
    risk: s.risk,
    status: action.status,
    escalation: s.escalation,
    policyVersion: s.policyVersion,
    inputHash: action.inputHash,
    requiredApprovals: s.requiredApprovals,
    approvals: action.approvers,
    receipt: action.receipt,
    output: result && outcome.data.kind !== 'submitted' ? pick(outcome.data, 'output') : null,
    usage: result ? pick(outcome.data, 'usage') : null,
    expiresAt: s.expiresAt,
    createdAt: steps[0].at,
    updatedAt: last.at,
  };
}

function pick(data: object, key: 'output' | 'usage'): Record<string, unknown> | null {
  return ((data as Record<string, unknown>)[key] as Record<string, unknown> | null) ?? null;
}
