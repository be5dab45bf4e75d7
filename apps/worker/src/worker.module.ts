import { Module } from '@nestjs/common';
import { OpsModule, PlatformModule } from '@app/platform';
import { EventsModule } from '@app/events';
import { AuditModule } from '@app/audit';
import { WebhooksModule } from '@app/webhooks';
import { ApiAuthModule } from '@app/identity';
import { ALL_MIGRATION_NAMES } from '@app/schema';

@Module({
  imports: [
    PlatformModule,
    EventsModule,
    AuditModule,
    WebhooksModule,
    ApiAuthModule,
    OpsModule.forMigrations(ALL_MIGRATION_NAMES),
  ],
})
export class WorkerModule {}
