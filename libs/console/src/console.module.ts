import { Module } from '@nestjs/common';
import { ApprovalsModule } from '@app/approvals';
import { AuditModule } from '@app/audit';
import { WebhooksModule } from '@app/webhooks';
import { PeopleModule } from '@app/people';
import { ConsoleController } from './console.controller';

/** `/console`: the approvers' pages, over the approvals, audit, webhooks and people services. */
@Module({
  imports: [ApprovalsModule, AuditModule, WebhooksModule, PeopleModule],
  controllers: [ConsoleController],
})
export class ConsoleHttpModule {}
