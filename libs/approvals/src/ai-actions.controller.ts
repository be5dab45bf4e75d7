import { Body, Controller, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  Auth,
  AuthContext,
  decodeCursor,
  DomainError,
  encodeCursor,
  PageQuery,
  RequireScope,
  toPage,
  UUID_PATTERN,
  UuidParam,
} from '@app/platform';
import { EVENT_TYPE_PATTERN } from '@app/events';
import { AiActionService } from './ai-action.service';
import { AiPolicyService } from './ai-policy.service';
import {
  ActionsQuery,
  DecisionDto,
  OutcomeDto,
  PutAiSettingsDto,
  PutPolicyDto,
  ReviseInputDto,
  SubmitActionDto,
} from './dto/ai-action.dto';

const idCursor = (cursor: string | undefined) =>
  cursor === undefined
    ? null
    : decodeCursor<{ id: string }>(
        cursor,
        (v) => typeof v.id === 'string' && UUID_PATTERN.test(v.id),
      ).id;

@ApiTags('ai-actions')
@Controller('v1/ai-actions')
export class AiActionsController {
  constructor(private readonly actions: AiActionService) {}

  @Post()
  @RequireScope('ai-actions:submit')
  submit(@Auth() auth: AuthContext, @Body() dto: SubmitActionDto) {
    return this.actions.submit(auth, dto);
  }

  @Get()
  @RequireScope('ai-actions:submit', 'ai-actions:decide')
  async list(@Auth() auth: AuthContext, @Query() q: ActionsQuery) {
    const { status, risk, type, agentId } = q;
    const rows = await this.actions.list(
      auth.tenantId,
      { status, risk, type, agentId },
      idCursor(q.cursor),
      q.limit + 1,
    );
    return toPage(
      rows,
      q.limit,
      (r) => r,
      (r) => encodeCursor({ id: r.id }),
    );
  }

  @Get(':id')
  @RequireScope('ai-actions:submit', 'ai-actions:decide')
  get(@Auth() auth: AuthContext, @UuidParam('id') id: string) {
    return this.actions.get(auth.tenantId, id);
  }

  @Put(':id/input')
  @RequireScope('ai-actions:submit')
  revise(@Auth() auth: AuthContext, @UuidParam('id') id: string, @Body() dto: ReviseInputDto) {
    return this.actions.revise(auth, id, dto);
  }

  @Post(':id/decisions')
  @HttpCode(200)
  @RequireScope('ai-actions:decide')
  decide(@Auth() auth: AuthContext, @UuidParam('id') id: string, @Body() dto: DecisionDto) {
    return this.actions.decide(auth, id, dto);
  }

  @Post(':id/outcome')
  @HttpCode(200)
  @RequireScope('ai-actions:submit')
  outcome(@Auth() auth: AuthContext, @UuidParam('id') id: string, @Body() dto: OutcomeDto) {
    return this.actions.outcome(auth, id, dto);
  }
}

@ApiTags('ai-actions')
@Controller('v1')
@RequireScope('admin')
export class AiPoliciesController {
  constructor(private readonly policies: AiPolicyService) {}

  @Put('ai-policies/:type')
  put(@Auth() auth: AuthContext, @Param('type') type: string, @Body() dto: PutPolicyDto) {
    if (type.length > 128 || !EVENT_TYPE_PATTERN.test(type)) {
      throw DomainError.invalid('type', 'type must be a lowercase dotted name like deal.update');
    }
    return this.policies.put(auth, type, dto);
  }

  @Get('ai-policies')
  async list(@Auth() auth: AuthContext, @Query() q: PageQuery) {
    const after =
      q.cursor === undefined
        ? null
        : decodeCursor<{ type: string }>(q.cursor, (v) => typeof v.type === 'string').type;
    const rows = await this.policies.list(auth.tenantId, after, q.limit + 1);
    return toPage(
      rows,
      q.limit,
      (r) => r,
      (r) => encodeCursor({ type: r.type }),
    );
  }

  @Get('settings/ai')
  settings(@Auth() auth: AuthContext) {
    return this.policies.settings(auth.tenantId);
  }

  @Put('settings/ai')
  putSettings(@Auth() auth: AuthContext, @Body() dto: PutAiSettingsDto) {
    return this.policies.putSettings(auth, dto);
  }
}
