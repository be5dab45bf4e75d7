import { Module } from '@nestjs/common';
import { ApprovalsModule } from '@app/approvals';
import { AuditModule } from '@app/audit';
import { WebhooksModule } from '@app/webhooks';
import { PeopleModule } from '@app/people';
import { EventsModule } from '@app/events';
import { ConsoleController } from './console.controller';
import { ApproverNoticeRepository } from './notices/approver-notice.repository';
import {
  ApproverNoticeConsumer,
  ApproverNoticeSender,
  ApproverNoticeSweeper,
} from './notices/approver-notices';

/** `/console`: the approvers' pages, over the approvals, audit, webhooks and people services. */
@Module({
  imports: [ApprovalsModule, AuditModule, WebhooksModule, PeopleModule],
  controllers: [ConsoleController],
})
export class ConsoleHttpModule {}

/** Approver notices: the `ai_action.pending` consumer and its retry sweeper (worker only). */
@Module({
  imports: [EventsModule, PeopleModule, ApprovalsModule],
  providers: [
    ApproverNoticeRepository,
    ApproverNoticeSender,
    ApproverNoticeConsumer,
    ApproverNoticeSweeper,
  ],
})
export class ConsoleWorkerModule {}
