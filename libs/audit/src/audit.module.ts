import { Module, OnModuleInit } from '@nestjs/common';
import { EventsModule, EventViewRegistry } from '@app/events';
import { IdentityModule } from '@app/identity';
import { AuditChainAppender } from './audit-chain-appender';
import { AuditChainRegistry } from './audit-chains';
import { AuditChainVerifier } from './audit-chain-verifier';
import { AuditEntryRepository } from './audit-entry.repository';
import { AuditController } from './audit.controller';
import { CheckpointService } from './checkpoint.service';
import { CheckpointSweeper } from './checkpoint-sweeper';
import { CheckpointRepository } from './checkpoint.repository';
import { AuditSigningKeys } from './keys/audit-signing-keys';
import { SigningKeyRepository } from './keys/signing-key.repository';

const CORE = [
  AuditChainRegistry,
  AuditChainVerifier,
  AuditEntryRepository,
  AuditSigningKeys,
  CheckpointRepository,
  CheckpointService,
  SigningKeyRepository,
];

/** The chains' store and registry, verifier, signing keys and checkpoints; no transport. */
@Module({
  imports: [EventsModule, IdentityModule],
  providers: CORE,
  exports: CORE,
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
    // GET /v1/events/{id} shows the event's entry in its tenant's main chain.
    this.views.register(async (tenantId, eventId) => ({
      audit: await this.repo.findByEvent(tenantId, 'main', eventId),
    }));
  }
}

/** Appends each tenant's events to its chain and signs checkpoints on a timer. */
@Module({
  imports: [AuditModule, EventsModule],
  providers: [AuditChainAppender, CheckpointSweeper],
})
export class AuditWorkerModule {}
