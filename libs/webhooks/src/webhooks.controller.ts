import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  Auth,
  AuthContext,
  decodeCursor,
  encodeCursor,
  PageQuery,
  RequireScope,
  toPage,
  UUID_PATTERN,
  UuidParam,
} from '@app/platform';
import {
  CreateEndpointDto,
  DeliveriesQuery,
  RecoverDto,
  UpdateEndpointDto,
} from './dto/endpoint.dto';
import { WebhookDeliveryService } from './webhook-delivery.service';
import { toEndpointView, WebhookEndpointService } from './webhook-endpoint.service';

const idCursor = (cursor: string | undefined) =>
  cursor === undefined
    ? null
    : decodeCursor<{ id: string }>(
        cursor,
        (v) => typeof v.id === 'string' && UUID_PATTERN.test(v.id),
      ).id;

@ApiTags('webhooks')
@Controller('v1/webhooks')
@RequireScope('webhooks:manage')
export class WebhooksController {
  constructor(
    private readonly endpoints: WebhookEndpointService,
    private readonly deliveries: WebhookDeliveryService,
  ) {}

  @Post('endpoints')
  create(@Auth() auth: AuthContext, @Body() dto: CreateEndpointDto) {
    return this.endpoints.create(auth, dto);
  }

  @Get('endpoints')
  async list(@Auth() auth: AuthContext, @Query() q: PageQuery) {
    const rows = await this.endpoints.list(auth, idCursor(q.cursor), q.limit + 1);
    return toPage(rows, q.limit, toEndpointView, (r) => encodeCursor({ id: r.id }));
  }

  @Get('endpoints/:id')
  get(@Auth() auth: AuthContext, @UuidParam('id') id: string) {
    return this.endpoints.get(auth, id);
  }

  @Patch('endpoints/:id')
  update(@Auth() auth: AuthContext, @UuidParam('id') id: string, @Body() dto: UpdateEndpointDto) {
    return this.endpoints.update(auth, id, dto);
  }

  @Delete('endpoints/:id')
  @HttpCode(204)
  async remove(@Auth() auth: AuthContext, @UuidParam('id') id: string): Promise<void> {
    await this.endpoints.remove(auth, id);
  }

  @Post('endpoints/:id/rotate-secret')
  @HttpCode(200)
  rotate(@Auth() auth: AuthContext, @UuidParam('id') id: string) {
    return this.endpoints.rotateSecret(auth, id);
  }

  @Post('endpoints/:id/enable')
  @HttpCode(200)
  async enable(@Auth() auth: AuthContext, @UuidParam('id') id: string) {
    const view = await this.endpoints.enable(auth, id);
    await this.deliveries.enqueueDue(auth.tenantId, id);
    return view;
  }

  @Post('endpoints/:id/recover')
  @HttpCode(202)
  recover(@Auth() auth: AuthContext, @UuidParam('id') id: string, @Body() dto: RecoverDto) {
    return this.deliveries.recover(auth, id, new Date(dto.since));
  }

  @Get('endpoints/:id/deliveries')
  deliveriesOf(
    @Auth() auth: AuthContext,
    @UuidParam('id') id: string,
    @Query() q: DeliveriesQuery,
  ) {
    return this.deliveries.list(auth, id, q.status, idCursor(q.cursor), q.limit);
  }

  @Post('deliveries/:id/retry')
  @HttpCode(202)
  retry(@Auth() auth: AuthContext, @UuidParam('id') id: string) {
    return this.deliveries.retry(auth, id);
  }
}
