import { Module } from '@nestjs/common';
import { OpsModule, PlatformModule } from '@app/platform';
import { EventsWorkerModule } from '@app/events';
import { AuditWorkerModule } from '@app/audit';
import { WebhooksWorkerModule } from '@app/webhooks';
import { ApiAuthModule } from '@app/identity';
import { ApprovalsWorkerModule } from '@app/approvals';
import { ConsentWorkerModule } from '@app/consent';
import { MessagingWorkerModule } from '@app/messaging';
import { PeopleWorkerModule } from '@app/people';
import { ConsoleWorkerModule } from '@app/console';
import { ALL_MIGRATION_NAMES } from '@app/schema';

/** Processors, the relay and periodic tasks; HTTP for probes and metrics only. */
@Module({
  imports: [
    PlatformModule,
    EventsWorkerModule,
    AuditWorkerModule,
    WebhooksWorkerModule,
    ApprovalsWorkerModule,
    ConsentWorkerModule,
    MessagingWorkerModule,
    PeopleWorkerModule,
    ConsoleWorkerModule,
    ApiAuthModule,
    OpsModule.forMigrations(ALL_MIGRATION_NAMES),
  ],
})
export class WorkerModule {}
