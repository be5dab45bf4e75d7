export const RISKS = ['low', 'medium', 'high'] as const;
export type Risk = (typeof RISKS)[number];

export const INITIATORS = ['user', 'autonomous'] as const;
export type Initiator = (typeof INITIATORS)[number];

export const ACTION_STATUSES = [
  'pending_approval',
  'approved',
  'auto_approved',
  'rejected',
  'expired',
  'cancelled',
  'executing',
  'succeeded',
  'failed',
] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

export type Escalation = 'budget_exceeded' | 'paused';

export const STEP_KINDS = [
  'submitted',
  'revised',
  'approved',
  'rejected',
  'expired',
  'cancelled',
  'executing',
  'succeeded',
  'failed',
] as const;
export type StepKind = (typeof STEP_KINDS)[number];

/** Who did a step: an API key, or (from the console) a user. */
export interface Principal {
  type: 'api_key' | 'user';
  id: string;
}

export interface Agent {
  id: string;
  model: string | null;
}

export interface Receipt {
  actionId: string;
  tenantId: string;
  type: string;
  inputHash: string;
  policyVersion: number;
  approvers: Principal[];
  approvedAt: string;
  keyId: string;
  signature: string;
}

export type UnsignedReceipt = Omit<Receipt, 'keyId' | 'signature'>;

/** Signs a receipt synchronously (the key is fetched before the unit of work starts). */
export type ReceiptSigner = (receipt: UnsignedReceipt) => Receipt;

/** What a submission fixes for the action's whole life. */
export interface Submission {
  tenantId: string;
  id: string;
  type: string;
  initiator: Initiator;
  agent: Agent;
  requestedBy: string | null;
  submitterKeyId: string;
  rationale: string | null;
  input: Record<string, unknown>;
  risk: Risk;
  policyVersion: number;
  requiredApprovals: number;
  status: 'pending_approval' | 'auto_approved';
  escalation: Escalation | null;
  expiresAt: string;
  inputHash: string;
  receipt: Receipt | null;
}

/**
 * One step of an action: the action's own event. Its steps are the record; the queue table is a
 * projection of them. `revision` counts input revisions: a decision made at an older revision is void.
 */
export interface ActionStep {
  seq: number;
  kind: StepKind;
  at: string;
  principal: Principal | null;
  reason: string | null;
  inputHash: string | null;
  revision: number;
  data: StepData;
}

export type StepData =
  | { kind: 'submitted'; submission: Submission }
  | { kind: 'revised'; input: Record<string, unknown>; rationale: string | null; voided: number[] }
  | { kind: 'approved'; receipt: Receipt | null }
  | { kind: 'rejected' }
  | { kind: 'expired' }
  | { kind: 'cancelled' }
  | { kind: 'executing' }
  | {
      kind: 'succeeded' | 'failed';
      output: Record<string, unknown>;
      usage: Record<string, unknown> | null;
    };

export interface HistoryItem {
  kind: StepKind;
  at: string;
  principal?: Principal;
  reason?: string;
  inputHash?: string;
  void?: boolean;
}
