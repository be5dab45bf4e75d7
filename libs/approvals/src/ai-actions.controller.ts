import { Body, Controller, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import {
  ApiPage,
  ApiProblems,
  Auth,
  AuthContext,
  decodeCursor,
  DomainError,
  encodeCursor,
  PageQuery,
  pageById,
  registerFastPath,
  Scoped,
  toPage,
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
import {
  AiActionDetailDto,
  AiActionDto,
  AiSettingsDto,
  PolicyDto,
} from './dto/ai-action-responses.dto';
import { isPlainValidSubmission } from './dto/submit-action.fast-path';

registerFastPath(SubmitActionDto, isPlainValidSubmission);

const ActionId = () => ApiParam({ name: 'id', format: 'uuid', description: 'The action' });
const BODY_ERRORS = [400, 404, 413, 415];

@ApiTags('ai-actions')
@Controller('v1/ai-actions')
export class AiActionsController {
  constructor(private readonly actions: AiActionService) {}

  @Post()
  @Scoped('ai-actions:submit')
  @ApiOperation({ summary: 'Submit an AI action; its policy decides whether it waits' })
  @ApiCreatedResponse({ type: AiActionDto })
  @ApiProblems([400, 413, 415])
  submit(@Auth() auth: AuthContext, @Body() dto: SubmitActionDto) {
    return this.actions.submit(auth, dto);
  }

  @Get()
  @Scoped('ai-actions:submit', 'ai-actions:decide')
  @ApiOperation({ summary: 'List actions, oldest first' })
  @ApiPage(AiActionDto)
  @ApiProblems([400])
  list(@Auth() auth: AuthContext, @Query() q: ActionsQuery) {
    const { status, risk, type, agentId } = q;
    return pageById(q, (afterId, limit) =>
      this.actions.list(auth.tenantId, { status, risk, type, agentId }, afterId, limit),
    );
  }

  @Get(':id')
  @Scoped('ai-actions:submit', 'ai-actions:decide')
  @ApiOperation({ summary: 'One action with its history' })
  @ActionId()
  @ApiOkResponse({ type: AiActionDetailDto })
  @ApiProblems([404])
  get(@Auth() auth: AuthContext, @UuidParam('id') id: string) {
    return this.actions.get(auth.tenantId, id);
  }

  @Put(':id/input')
  @Scoped('ai-actions:submit')
  @ApiOperation({ summary: 'Revise a pending action (submitter only); approvals so far are void' })
  @ActionId()
  @ApiOkResponse({ type: AiActionDto })
  @ApiProblems([...BODY_ERRORS, 409], {
    403: '`not_submitter`, or a missing scope',
    409: '`not_pending`',
  })
  revise(@Auth() auth: AuthContext, @UuidParam('id') id: string, @Body() dto: ReviseInputDto) {
    return this.actions.revise(auth, id, dto);
  }

  @Post(':id/decisions')
  @HttpCode(200)
  @Scoped('ai-actions:decide')
  @ApiOperation({ summary: 'Approve (optionally with edited input) or reject' })
  @ActionId()
  @ApiOkResponse({ type: AiActionDto })
  @ApiProblems([...BODY_ERRORS, 409], {
    403: '`separation_of_duties`, or a missing scope',
    409: '`not_pending`, `already_decided`, `input_changed` or `ai_paused`',
  })
  decide(@Auth() auth: AuthContext, @UuidParam('id') id: string, @Body() dto: DecisionDto) {
    return this.actions.decide(auth, id, dto);
  }

  @Post(':id/outcome')
  @HttpCode(200)
  @Scoped('ai-actions:submit')
  @ApiOperation({ summary: 'Report how an approved action went (executing service)' })
  @ActionId()
  @ApiOkResponse({ type: AiActionDto })
  @ApiProblems([...BODY_ERRORS, 409], { 409: '`not_executable` or `input_changed`' })
  outcome(@Auth() auth: AuthContext, @UuidParam('id') id: string, @Body() dto: OutcomeDto) {
    return this.actions.outcome(auth, id, dto);
  }
}

@ApiTags('ai-actions')
@Controller('v1')
@Scoped('admin')
export class AiPoliciesController {
  constructor(private readonly policies: AiPolicyService) {}

  @Put('ai-policies/:type')
  @ApiOperation({ summary: "Set an action type's risk policy (version grows by one)" })
  @ApiParam({
    name: 'type',
    schema: { type: 'string', maxLength: 128, pattern: EVENT_TYPE_PATTERN.source },
  })
  @ApiOkResponse({ type: PolicyDto })
  @ApiProblems([400, 413, 415])
  put(@Auth() auth: AuthContext, @Param('type') type: string, @Body() dto: PutPolicyDto) {
    if (type.length > 128 || !EVENT_TYPE_PATTERN.test(type)) {
      throw DomainError.invalid('type', 'type must be a lowercase dotted name like deal.update');
    }
    return this.policies.put(auth, type, dto);
  }

  @Get('ai-policies')
  @ApiOperation({ summary: 'List risk policies' })
  @ApiPage(PolicyDto)
  @ApiProblems([400])
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
  @ApiOperation({ summary: 'The AI kill switch' })
  @ApiOkResponse({ type: AiSettingsDto })
  settings(@Auth() auth: AuthContext) {
    return this.policies.settings(auth.tenantId);
  }

  @Put('settings/ai')
  @ApiOperation({ summary: 'Pause or resume every AI action of the tenant' })
  @ApiOkResponse({ type: AiSettingsDto })
  @ApiProblems([400, 413, 415])
  putSettings(@Auth() auth: AuthContext, @Body() dto: PutAiSettingsDto) {
    return this.policies.putSettings(auth, dto);
  }
}
