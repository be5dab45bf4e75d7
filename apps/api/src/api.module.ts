import { Module } from '@nestjs/common';
import { OpsModule, PlatformModule } from '@app/platform';
import { EventsHttpModule } from '@app/events';
import { AuditHttpModule } from '@app/audit';
import { WebhooksHttpModule } from '@app/webhooks';
import { IdentityHttpModule } from '@app/identity';
import { ApprovalsHttpModule } from '@app/approvals';
import { ConsentHttpModule } from '@app/consent';
import { MessagingHttpModule } from '@app/messaging';
import { PeopleHttpModule } from '@app/people';
import { ConsoleHttpModule } from '@app/console';
import { ALL_MIGRATION_NAMES } from '@app/schema';

/** HTTP only: each capability's routes; no processor, relay or timer. */
@Module({
  imports: [
    PlatformModule,
    IdentityHttpModule,
    EventsHttpModule,
    AuditHttpModule,
    WebhooksHttpModule,
    ApprovalsHttpModule,
    ConsentHttpModule,
    MessagingHttpModule,
    PeopleHttpModule,
    ConsoleHttpModule,
    OpsModule.forMigrations(ALL_MIGRATION_NAMES),
  ],
})
export class ApiModule {}
