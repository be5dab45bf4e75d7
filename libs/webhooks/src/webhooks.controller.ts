import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
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
  decodeIdCursor,
  PageQuery,
  pageById,
  Scoped,
  UuidParam,
} from '@app/platform';
import {
  CreateEndpointDto,
  DeliveriesQuery,
  RecoverDto,
  UpdateEndpointDto,
} from './dto/endpoint.dto';
import {
  CreatedEndpointDto,
  DeliveryDto,
  EndpointDto,
  QueuedDeliveryDto,
  RecoverResultDto,
  SecretDto,
  TestDeliveryDto,
} from './dto/endpoint-responses.dto';
import { WebhookDeliveryService } from './webhook-delivery.service';
import { toEndpointView, WebhookEndpointService } from './webhook-endpoint.service';

const EndpointId = () => ApiParam({ name: 'id', format: 'uuid', description: 'The endpoint' });
const UNSAFE_URL = {
  422: '`unsafe_url`: not https (unless allowed), credentials in the URL, or a private address',
};

@ApiTags('webhooks')
@Controller('v1/webhooks')
@Scoped('webhooks:manage')
export class WebhooksController {
  constructor(
    private readonly endpoints: WebhookEndpointService,
    private readonly deliveries: WebhookDeliveryService,
  ) {}

  @Post('endpoints')
  @ApiOperation({ summary: 'Create an endpoint (its secret is shown here only)' })
  @ApiCreatedResponse({ type: CreatedEndpointDto })
  @ApiProblems([400, 413, 415, 422], UNSAFE_URL)
  create(@Auth() auth: AuthContext, @Body() dto: CreateEndpointDto) {
    return this.endpoints.create(auth, dto);
  }

  @Get('endpoints')
  @ApiOperation({ summary: 'List endpoints' })
  @ApiPage(EndpointDto)
  @ApiProblems([400])
  list(@Auth() auth: AuthContext, @Query() q: PageQuery) {
    return pageById(
      q,
      (afterId, limit) => this.endpoints.list(auth, afterId, limit),
      toEndpointView,
    );
  }

  @Get('endpoints/:id')
  @ApiOperation({ summary: 'One endpoint' })
  @EndpointId()
  @ApiOkResponse({ type: EndpointDto })
  @ApiProblems([404])
  get(@Auth() auth: AuthContext, @UuidParam('id') id: string) {
    return this.endpoints.get(auth, id);
  }

  @Patch('endpoints/:id')
  @ApiOperation({ summary: 'Change url, event types, description or rate limit' })
  @EndpointId()
  @ApiOkResponse({ type: EndpointDto })
  @ApiProblems([400, 404, 413, 415, 422], UNSAFE_URL)
  update(@Auth() auth: AuthContext, @UuidParam('id') id: string, @Body() dto: UpdateEndpointDto) {
    return this.endpoints.update(auth, id, dto);
  }

  @Delete('endpoints/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an endpoint (its open deliveries fail)' })
  @EndpointId()
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems([404])
  async remove(@Auth() auth: AuthContext, @UuidParam('id') id: string): Promise<void> {
    await this.endpoints.remove(auth, id);
  }

  @Post('endpoints/:id/rotate-secret')
  @HttpCode(200)
  @ApiOperation({ summary: 'New secret; the old one keeps signing alongside it for 24 h' })
  @EndpointId()
  @ApiOkResponse({ type: SecretDto })
  @ApiProblems([404])
  rotate(@Auth() auth: AuthContext, @UuidParam('id') id: string) {
    return this.endpoints.rotateSecret(auth, id);
  }

  @Post('endpoints/:id/enable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Re-enable a disabled endpoint and send its waiting deliveries' })
  @EndpointId()
  @ApiOkResponse({ type: EndpointDto })
  @ApiProblems([404])
  async enable(@Auth() auth: AuthContext, @UuidParam('id') id: string) {
    const view = await this.endpoints.enable(auth, id);
    await this.deliveries.enqueueDue(auth.tenantId, id);
    return view;
  }

  @Post('endpoints/:id/recover')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Re-send failed or waiting deliveries since a time, and create missing ones',
  })
  @EndpointId()
  @ApiAcceptedResponse({ type: RecoverResultDto })
  @ApiProblems([400, 404, 413, 415])
  recover(@Auth() auth: AuthContext, @UuidParam('id') id: string, @Body() dto: RecoverDto) {
    return this.deliveries.recover(auth, id, new Date(dto.since));
  }

  @Post('endpoints/:id/test')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Send a test event (webhook.endpoint.test) to this endpoint only',
    description:
      'Whatever the endpoint subscribes to, it receives a signed `webhook.endpoint.test` ' +
      'delivery; no other endpoint does. It shows in the delivery log and the audit chain. ' +
      'While the endpoint is disabled the delivery is `waiting`.',
  })
  @EndpointId()
  @ApiAcceptedResponse({ type: TestDeliveryDto })
  @ApiProblems([404])
  sendTest(@Auth() auth: AuthContext, @UuidParam('id') id: string) {
    return this.deliveries.sendTest(auth, id);
  }

  @Get('endpoints/:id/deliveries')
  @ApiOperation({ summary: "The endpoint's deliveries with their attempts, newest first" })
  @EndpointId()
  @ApiPage(DeliveryDto)
  @ApiProblems([400, 404])
  deliveriesOf(
    @Auth() auth: AuthContext,
    @UuidParam('id') id: string,
    @Query() q: DeliveriesQuery,
  ) {
    return this.deliveries.list(auth, id, q.status, decodeIdCursor(q.cursor), q.limit);
  }

  @Post('deliveries/:id/retry')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send one delivery again now' })
  @ApiParam({ name: 'id', format: 'uuid', description: 'The delivery' })
  @ApiAcceptedResponse({ type: QueuedDeliveryDto })
  @ApiProblems([404])
  retry(@Auth() auth: AuthContext, @UuidParam('id') id: string) {
    return this.deliveries.retry(auth, id);
  }
}
