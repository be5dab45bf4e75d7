import { Module } from '@nestjs/common';
import { PlatformModule } from '@app/platform';
import { EventsModule } from '@app/events';
import { AuditModule } from '@app/audit';
import { WebhooksModule } from '@app/webhooks';
import { IdentityModule } from '@app/identity';
import { ApprovalsModule } from '@app/approvals';
import { PeopleModule } from '@app/people';

@Module({
  imports: [
    PlatformModule,
    EventsModule,
    AuditModule,
    WebhooksModule,
    IdentityModule,
    ApprovalsModule,
    PeopleModule,
  ],
})
export class CliModule {}
