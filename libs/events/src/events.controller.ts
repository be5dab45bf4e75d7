import { Body, Controller, Get, Headers, HttpCode, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import {
  Auth,
  AuthContext,
  DomainError,
  registerFastPath,
  RequireScope,
  UuidParam,
} from '@app/platform';
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

@ApiTags('events')
@Controller('v1/events')
export class EventsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly store: EventStore,
    private readonly views: EventViewRegistry,
  ) {}

  @Post()
  @RequireScope('events:write')
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
  @RequireScope('events:write')
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
  @RequireScope('events:read')
  async get(@Auth() auth: AuthContext, @UuidParam('id') id: string) {
    const event = await this.store.findById(auth.tenantId, id);
    if (!event) throw DomainError.notFound('Event');
    return { ...toEventView(event), ...(await this.views.contribute(auth.tenantId, id)) };
  }
}
