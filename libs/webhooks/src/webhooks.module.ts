import { Module, OnModuleInit } from '@nestjs/common';
import { LedgerlineConfig } from '@app/platform';
import { EventsModule, EventViewRegistry } from '@app/events';
import { IdentityModule } from '@app/identity';
import { SsrfGuard } from '@app/security';
import { DeliveryScheduler } from './delivery-scheduler';
import { PinnedHttpClient } from './pinned-http-client';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import { WebhookDeliveryService } from './webhook-delivery.service';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookEndpointRepository } from './webhook-endpoint.repository';
import { WebhookEndpointService } from './webhook-endpoint.service';
import { WebhookFanout } from './webhook-fanout';
import { WebhooksController } from './webhooks.controller';
import { SecretRekeyer } from './secret-rekeyer';
import { EndpointLanes } from './endpoint-lanes';
import { AttemptRecorder } from './attempt-recorder';
import { AttemptRepository } from './attempt.repository';
import { EndpointSecrets } from './endpoint-secrets';
import { WebhookSender } from './webhook-sender';
import { EndpointRateLimiter } from './endpoint-rate-limiter';
import { SlowLane } from './slow-lane';

@Module({
  imports: [EventsModule, IdentityModule],
  controllers: [WebhooksController],
  providers: [
    {
      provide: SsrfGuard,
      useFactory: (config: LedgerlineConfig) =>
        new SsrfGuard({
          allowHttp: config.WEBHOOK_ALLOW_HTTP,
          allowedCidrs: config.WEBHOOK_ALLOWED_CIDRS,
        }),
      inject: [LedgerlineConfig],
    },
    WebhookEndpointRepository,
    WebhookDeliveryRepository,
    WebhookEndpointService,
    WebhookDeliveryService,
    DeliveryScheduler,
    WebhookFanout,
    WebhookDispatcher,
    PinnedHttpClient,
    SecretRekeyer,
    EndpointLanes,
    AttemptRecorder,
    AttemptRepository,
    EndpointSecrets,
    WebhookSender,
    EndpointRateLimiter,
    SlowLane,
  ],
  exports: [WebhookEndpointService, WebhookDeliveryService, SecretRekeyer],
})
export class WebhooksModule implements OnModuleInit {
  constructor(
    private readonly views: EventViewRegistry,
    private readonly deliveries: WebhookDeliveryRepository,
  ) {}

  onModuleInit(): void {
    this.views.register(async (tenantId, eventId) => ({
      deliveries: await this.deliveries.counts(tenantId, eventId),
    }));
  }
}
