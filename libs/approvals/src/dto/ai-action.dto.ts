import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { EVENT_TYPE_PATTERN } from '@app/events';
import { PageQuery } from '@app/platform';
import {
  ACTION_STATUSES,
  ActionStatus,
  Initiator,
  INITIATORS,
  Risk,
  RISKS,
} from '../ai-action.types';

const HASH = /^[0-9a-f]{64}$/;
const TYPE_MESSAGE = 'type must be a lowercase dotted name like deal.update';

export class AgentDto {
  @IsString()
  @Length(1, 128)
  id: string;

  @IsOptional()
  @IsString()
  @Length(1, 128)
  model?: string;
}

export class SubmitActionDto {
  @ApiProperty({ maxLength: 128, pattern: EVENT_TYPE_PATTERN.source, example: 'deal.update' })
  @IsString()
  @MaxLength(128)
  @Matches(EVENT_TYPE_PATTERN, { message: TYPE_MESSAGE })
  type: string;

  @IsIn(INITIATORS)
  initiator: Initiator;

  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => AgentDto)
  agent: AgentDto;

  // Kept exactly as sent: the hash and the receipt bind these bytes' meaning.
  @IsObject()
  input: Record<string, unknown>;

  @ApiPropertyOptional({
    minLength: 1,
    maxLength: 128,
    description: 'The user who asked for it; required when initiator is user',
  })
  @ValidateIf((o: SubmitActionDto) => o.initiator === 'user' || o.requestedBy !== undefined)
  @IsString()
  @Length(1, 128)
  requestedBy?: string;

  @IsOptional()
  @IsString()
  @MaxLength(4000)
  rationale?: string;

  @IsOptional()
  @IsIn(RISKS)
  proposedRisk?: Risk;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(90 * 86400)
  expiresInSeconds?: number;
}

export class ReviseInputDto {
  @IsObject()
  input: Record<string, unknown>;

  @IsOptional()
  @IsString()
  @MaxLength(4000)
  rationale?: string;
}

export class DecisionDto {
  @IsIn(['approve', 'reject'])
  decision: 'approve' | 'reject';

  @ApiPropertyOptional({
    minLength: 1,
    maxLength: 2000,
    description: 'Required (not blank) for a rejection',
  })
  @ValidateIf((o: DecisionDto) => o.decision === 'reject' || o.reason !== undefined)
  @IsString()
  @Length(1, 2000)
  @Matches(/\S/, { message: 'reason must not be blank' })
  reason?: string;

  @ApiPropertyOptional({
    pattern: HASH.source,
    description: "The hash of the input decided on; 409 input_changed when it is not the action's",
  })
  @IsOptional()
  @IsString()
  @Matches(HASH, { message: 'inputHash must be 64 lowercase hex characters' })
  inputHash?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: "Approve with edits: the approver's corrected input",
  })
  @IsOptional()
  @IsObject()
  input?: Record<string, unknown>;
}

export class OutcomeDto {
  @IsIn(['succeeded', 'failed'])
  status: 'succeeded' | 'failed';

  @IsObject()
  output: Record<string, unknown>;

  @IsOptional()
  @IsObject()
  usage?: Record<string, unknown>;

  @ApiPropertyOptional({
    pattern: HASH.source,
    description: "The hash of the input decided on; 409 input_changed when it is not the action's",
  })
  @IsOptional()
  @IsString()
  @Matches(HASH, { message: 'inputHash must be 64 lowercase hex characters' })
  inputHash?: string;
}

export class ActionsQuery extends PageQuery {
  @IsOptional()
  @IsIn(ACTION_STATUSES)
  status?: ActionStatus;

  @IsOptional()
  @IsIn(RISKS)
  risk?: Risk;

  @IsOptional()
  @IsString()
  @MaxLength(128)
  type?: string;

  @IsOptional()
  @IsString()
  @MaxLength(128)
  agentId?: string;
}

export class AutoApproveDto {
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  max: number;

  @IsInt()
  @Min(1)
  @Max(30 * 86400)
  windowSeconds: number;
}

export class PutPolicyDto {
  @IsIn(RISKS)
  risk: Risk;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10)
  requiredApprovals?: number;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => AutoApproveDto)
  autoApprove?: AutoApproveDto;
}

export class PutAiSettingsDto {
  @IsBoolean()
  paused: boolean;

  @ApiPropertyOptional({ minLength: 1, maxLength: 500, description: 'Required when pausing' })
  @ValidateIf((o: PutAiSettingsDto) => o.paused === true || o.reason !== undefined)
  @IsString()
  @Length(1, 500)
  reason?: string;
}
