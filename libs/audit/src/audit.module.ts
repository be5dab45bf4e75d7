import { Module, OnModuleInit } from '@nestjs/common';
import { EventsModule, EventViewRegistry } from '@app/events';
import { IdentityModule } from '@app/identity';
import { AuditChainAppender } from './audit-chain-appender';
import { AuditChainVerifier } from './audit-chain-verifier';
import { AuditEntryRepository } from './audit-entry.repository';
import { AuditController } from './audit.controller';
import { CheckpointService } from './checkpoint.service';

@Module({
  imports: [EventsModule, IdentityModule],
  controllers: [AuditController],
  providers: [AuditChainAppender, AuditChainVerifier, AuditEntryRepository, CheckpointService],
  exports: [AuditChainAppender, AuditChainVerifier, AuditEntryRepository, CheckpointService],
})
export class AuditModule implements OnModuleInit {
  constructor(
    private readonly views: EventViewRegistry,
    private readonly repo: AuditEntryRepository,
  ) {}

  onModuleInit(): void {
    this.views.register(async (tenantId, eventId) => ({
      audit: await this.repo.findByEvent(tenantId, eventId),
    }));
  }
}
