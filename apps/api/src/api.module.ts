import { Module } from '@nestjs/common';
import { OpsModule, PlatformModule } from '@app/platform';
import { EventsModule } from '@app/events';
import { AuditModule } from '@app/audit';
import { WebhooksModule } from '@app/webhooks';
import { ApiAuthModule, IdentityModule } from '@app/identity';
import { ALL_MIGRATION_NAMES } from '@app/schema';

@Module({
  imports: [
    PlatformModule,
    IdentityModule,
    ApiAuthModule,
    EventsModule,
    AuditModule,
    WebhooksModule,
    OpsModule.forMigrations(ALL_MIGRATION_NAMES),
  ],
})
export class ApiModule {}
