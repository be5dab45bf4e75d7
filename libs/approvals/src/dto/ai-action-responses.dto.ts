import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ACTION_STATUSES,
  ActionStatus,
  Risk,
  RISKS,
  STEP_KINDS,
  StepKind,
} from '../ai-action.types';

export class PrincipalDto {
  type: 'api_key' | 'user';
  id: string;
}

export class AgentViewDto {
  id: string;
  model: string | null;
}

/** Signed by the audit signing key: the executing service checks it offline before it acts. */
export class ReceiptDto {
  @ApiProperty({ format: 'uuid' })
  actionId: string;
  @ApiProperty({ format: 'uuid' })
  tenantId: string;
  type: string;
  inputHash: string;
  policyVersion: number;
  @ApiProperty({ type: [PrincipalDto], description: 'Empty for auto-approval' })
  approvers: PrincipalDto[];
  @ApiProperty({ format: 'date-time' })
  approvedAt: string;
  keyId: string;
  /** base64 Ed25519 signature of JCS(receipt without signature) */
  signature: string;
}

export class AiActionDto {
  @ApiProperty({ format: 'uuid' })
  id: string;
  type: string;
  initiator: 'user' | 'autonomous';
  agent: AgentViewDto;
  requestedBy: string | null;
  rationale: string | null;
  input: Record<string, unknown>;
  @ApiProperty({ enum: RISKS })
  risk: Risk;
  @ApiProperty({ enum: ACTION_STATUSES })
  status: ActionStatus;
  @ApiProperty({ enum: ['budget_exceeded', 'paused'], nullable: true, type: String })
  escalation: 'budget_exceeded' | 'paused' | null;
  /** The policy version the action was judged by (0: the type had no policy) */
  policyVersion: number;
  /** Lowercase hex SHA-256 of JCS({type, input, risk, policyVersion}) */
  inputHash: string;
  requiredApprovals: number;
  @ApiProperty({ type: [PrincipalDto] })
  approvals: PrincipalDto[];
  @ApiProperty({ type: ReceiptDto, nullable: true })
  receipt: ReceiptDto | null;
  output: Record<string, unknown> | null;
  usage: Record<string, unknown> | null;
  @ApiProperty({ format: 'date-time' })
  expiresAt: string;
  @ApiProperty({ format: 'date-time' })
  createdAt: string;
  @ApiProperty({ format: 'date-time' })
  updatedAt: string;
}

export class HistoryItemDto {
  @ApiProperty({ enum: STEP_KINDS })
  kind: StepKind;
  @ApiProperty({ format: 'date-time' })
  at: string;
  @ApiPropertyOptional({ type: PrincipalDto })
  principal?: PrincipalDto;
  reason?: string;
  inputHash?: string;
  /** A decision voided by a later revision */
  void?: boolean;
}

export class AiActionDetailDto extends AiActionDto {
  @ApiProperty({ type: [HistoryItemDto] })
  history: HistoryItemDto[];
}

export class AutoApproveViewDto {
  max: number;
  windowSeconds: number;
}

export class PolicyDto {
  type: string;
  @ApiProperty({ enum: RISKS })
  risk: Risk;
  requiredApprovals: number | null;
  @ApiProperty({ type: AutoApproveViewDto, nullable: true })
  autoApprove: AutoApproveViewDto | null;
  /** 1 for a new policy, one more on every accepted PUT */
  version: number;
  @ApiProperty({ format: 'date-time' })
  updatedAt: string;
}

export class AiSettingsDto {
  paused: boolean;
  reason: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  updatedAt: string | null;
}
