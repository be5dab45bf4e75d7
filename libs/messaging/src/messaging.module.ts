import { Module, OnModuleInit } from '@nestjs/common';
import { EventsModule } from '@app/events';
import { IdentityModule } from '@app/identity';
import { ApprovalsModule, ExecutorRegistry } from '@app/approvals';
import { ConsentModule, ErasureRegistry } from '@app/consent';
import { Tx } from '@app/platform';
import { ChannelSenders } from './channel-senders';
import { MessageDispatcher } from './message-dispatcher';
import { MessageRepository } from './message.repository';
import { MessageService } from './message.service';
import { MessageSendExecutor } from './message-send.executor';
import { MessageSendProcessor } from './message.processors';
import { MessagesController } from './messages.controller';

const CORE = [MessageRepository, MessageService, MessageSendExecutor];

/**
 * Messages and the consent gate's use; no transport. Registers the `message.send` executor with
 * the approvals capability and message bodies with erasure and retention, in every process (the
 * API needs to know the type runs in-process; only the worker runs it).
 */
@Module({
  imports: [EventsModule, IdentityModule, ConsentModule, ApprovalsModule],
  providers: CORE,
  exports: CORE,
})
export class MessagingModule implements OnModuleInit {
  constructor(
    private readonly executors: ExecutorRegistry,
    private readonly executor: MessageSendExecutor,
    private readonly erasure: ErasureRegistry,
    private readonly repo: MessageRepository,
  ) {}

  onModuleInit(): void {
    if (!this.executors.find(this.executor.type)) this.executors.register(this.executor);
    this.erasure.register({
      name: 'messages',
      retention: 'messages',
      erase: (tx: Tx, tenantId: string, contactId: string) =>
        this.repo.eraseContact(tx, tenantId, contactId),
      purgeBefore: (tenantId: string, before: Date) => this.repo.purgeBodies(tenantId, before),
    });
  }
}

/** `POST /v1/messages`, `GET /v1/messages/{id}`. */
@Module({
  imports: [MessagingModule, IdentityModule],
  controllers: [MessagesController],
})
export class MessagingHttpModule {}

/** The send queue, its sweeper and the transports. */
@Module({
  imports: [MessagingModule, ConsentModule, EventsModule],
  providers: [ChannelSenders, MessageDispatcher, MessageSendProcessor],
})
export class MessagingWorkerModule {}
