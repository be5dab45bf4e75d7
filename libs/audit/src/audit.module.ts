import { Module, OnModuleInit } from '@nestjs/common';
import { EventsModule, EventViewRegistry } from '@app/events';
import { IdentityModule } from '@app/identity';
import { AuditChainAppender } from './audit-chain-appender';
import { AuditChainVerifier } from './audit-chain-verifier';
import { AuditEntryRepository } from './audit-entry.repository';
import { AuditController } from './audit.controller';
import { CheckpointService } from './checkpoint.service';
import { CheckpointSweeper } from './checkpoint-sweeper';

/** The chain's store, verifier and checkpoints; no transport. */
@Module({
  imports: [EventsModule, IdentityModule],
  providers: [AuditChainVerifier, AuditEntryRepository, CheckpointService],
  exports: [AuditChainVerifier, AuditEntryRepository, CheckpointService],
})
export class AuditModule {}

/** The audit routes, and each event's chain position in `GET /v1/events/{id}`. */
@Module({
  imports: [AuditModule, EventsModule, IdentityModule],
  controllers: [AuditController],
})
export class AuditHttpModule implements OnModuleInit {
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

/** Appends each tenant's events to its chain and signs checkpoints on a timer. */
@Module({
  imports: [AuditModule, EventsModule],
  providers: [AuditChainAppender, CheckpointSweeper],
})
export class AuditWorkerModule {}
