import { Module, OnModuleInit } from '@nestjs/common';
import { LedgerlineConfig } from '@app/platform';
import { EventsModule, EventViewRegistry } from '@app/events';
import { IdentityModule } from '@app/identity';
import { SsrfGuard } from '@app/security';
import { DeliveryScheduler } from './delivery-scheduler';
import { DeliverySweeper } from './delivery-sweeper';
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
import { DeliveryHandoff } from './delivery-handoff';
import { EndpointSnapshots } from './endpoint-snapshots';

const CORE = [
  WebhookEndpointRepository,
  WebhookDeliveryRepository,
  WebhookEndpointService,
  WebhookDeliveryService,
  DeliveryScheduler,
  EndpointSecrets,
  SecretRekeyer,
];

/** Endpoints, deliveries, secrets and the SSRF guard; no transport. */
@Module({
  imports: [EventsModule, IdentityModule],
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
    ...CORE,
  ],
  exports: [SsrfGuard, ...CORE],
})
export class WebhooksModule {}

/** The endpoint and delivery routes, and each event's delivery counts in `GET /v1/events/{id}`. */
@Module({
  imports: [WebhooksModule, EventsModule],
  controllers: [WebhooksController],
})
export class WebhooksHttpModule implements OnModuleInit {
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

/** Fan-out, the dispatcher with its lanes, sender and rate limiter, and the sweeper. */
@Module({
  imports: [WebhooksModule, EventsModule],
  providers: [
    WebhookFanout,
    WebhookDispatcher,
    PinnedHttpClient,
    EndpointLanes,
    AttemptRecorder,
    AttemptRepository,
    WebhookSender,
    EndpointRateLimiter,
    SlowLane,
    DeliveryHandoff,
    EndpointSnapshots,
    DeliverySweeper,
  ],
})
export class WebhooksWorkerModule {}
