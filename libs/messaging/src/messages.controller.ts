import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { ApiProblems, Auth, AuthContext, Scoped, UuidParam } from '@app/platform';
import { MessageService } from './message.service';
import { MessageDto, SendMessageDto } from './dto/message.dto';

@ApiTags('messages')
@Controller('v1/messages')
export class MessagesController {
  constructor(private readonly messages: MessageService) {}

  @Post()
  @HttpCode(202)
  @Scoped('messages:send')
  @ApiOperation({
    summary: 'Send a message if consent allows: queued, scheduled (quiet hours) or suppressed',
  })
  @ApiAcceptedResponse({ type: MessageDto })
  @ApiProblems([400, 404, 413, 415], { 404: 'The contact does not exist' })
  send(@Auth() auth: AuthContext, @Body() dto: SendMessageDto) {
    return this.messages.accept(
      auth.tenantId,
      { type: 'service', id: `api_key:${auth.keyId}` },
      { ...dto, contactId: dto.contactId.toLowerCase() },
    );
  }

  @Get(':id')
  @Scoped('messages:send', 'contacts:read')
  @ApiOperation({ summary: 'A message, its status and every consent check it went through' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: MessageDto })
  @ApiProblems([404])
  get(@Auth() auth: AuthContext, @UuidParam('id') id: string) {
    return this.messages.get(auth.tenantId, id);
  }
}
