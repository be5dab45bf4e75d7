import { Body, Controller, Get, Headers, HttpCode, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import {
  ApiProblems,
  Auth,
  AuthContext,
  DomainError,
  registerFastPath,
  Scoped,
  UuidParam,
} from '@app/platform';
import { BatchAcceptedDto, EventAcceptedDto, EventDetailDto } from './dto/event-responses.dto';
import { PublishEventBatchDto, PublishEventDto } from './dto/publish-event.dto';
import { isPlainValidBatch, isPlainValidEvent } from './dto/publish-event.fast-path';
import { EventStore } from './event-store';
import { toEventView } from './event-types';
import { EventViewRegistry } from './event-view-registry';
import { PublishEventsCommand } from './publish-events.command';

function idempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,255}$/.test(value)) {
    throw DomainError.invalid('Idempotency-Key', 'must be 1-255 visible ASCII characters');
  }
  return value;
}

registerFastPath(PublishEventDto, isPlainValidEvent);
registerFastPath(PublishEventBatchDto, isPlainValidBatch);

const IdempotencyKeyHeader = () =>
  ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    schema: { type: 'string', maxLength: 255 },
    description:
      'Same key and body: the first answer again, nothing created; same key, other body: 409 ' +
      '`idempotency_conflict`. Remembered at least 24 h per tenant.',
  });
const PUBLISH_ERRORS = {
  409: '`idempotency_conflict`: the Idempotency-Key was used with another body',
  422: '`reserved_type`: the type uses a prefix reserved for Ledgerline',
};

@ApiTags('events')
@Controller('v1/events')
export class EventsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly store: EventStore,
    private readonly views: EventViewRegistry,
  ) {}

  @Post()
  @Scoped('events:write')
  @ApiOperation({ summary: 'Publish an event (body at most 256 KiB)' })
  @IdempotencyKeyHeader()
  @ApiAcceptedResponse({
    type: EventAcceptedDto,
    description: 'Stored; audited and delivered next',
  })
  @ApiProblems([400, 409, 413, 415, 422], PUBLISH_ERRORS)
  async publish(
    @Auth() auth: AuthContext,
    @Body() dto: PublishEventDto,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const cmd = new PublishEventsCommand(auth.tenantId, [dto], 'single', idempotencyKey(key), dto);
    const answer = await this.commands.execute(cmd);
    reply.status(answer.status);
    return answer.body;
  }

  @Post('batch')
  @Scoped('events:write')
  @ApiOperation({ summary: 'Publish 1–500 events, all or nothing' })
  @ApiBody({ type: PublishEventBatchDto })
  @IdempotencyKeyHeader()
  @ApiAcceptedResponse({ type: BatchAcceptedDto, description: 'Stored, ids in the order given' })
  @ApiProblems([400, 409, 413, 415, 422], PUBLISH_ERRORS)
  async publishBatch(
    @Auth() auth: AuthContext,
    @Body() dto: PublishEventBatchDto,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const cmd = new PublishEventsCommand(
      auth.tenantId,
      dto.events,
      'batch',
      idempotencyKey(key),
      dto,
    );
    const answer = await this.commands.execute(cmd);
    reply.status(answer.status);
    return answer.body;
  }

  @Get(':id')
  @HttpCode(200)
  @Scoped('events:read')
  @ApiOperation({ summary: 'One event, its audit position and its delivery counts' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: EventDetailDto })
  @ApiProblems([404])
  async get(@Auth() auth: AuthContext, @UuidParam('id') id: string) {
    const event = await this.store.findById(auth.tenantId, id);
    if (!event) throw DomainError.notFound('Event');
    return { ...toEventView(event), ...(await this.views.contribute(auth.tenantId, id)) };
  }
}
