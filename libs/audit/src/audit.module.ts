import { Module, OnModuleInit } from '@nestjs/common';
import { EventsModule, EventViewRegistry } from '@app/events';
import { IdentityModule } from '@app/identity';
import { AuditChainAppender } from './audit-chain-appender';
import { AuditChainRegistry } from './audit-chains';
import { AuditChainVerifier } from './audit-chain-verifier';
import { AuditEntryRepository } from './audit-entry.repository';
import { AuditController } from './audit.controller';
import { CheckpointService } from './checkpoint.service';
import { AuditSigningKeys } from './keys/audit-signing-keys';
import { SigningKeyRepository } from './keys/signing-key.repository';

const PROVIDERS = [
  AuditChainAppender,
  AuditChainRegistry,
  AuditChainVerifier,
  AuditEntryRepository,
  AuditSigningKeys,
  CheckpointService,
  SigningKeyRepository,
];

@Module({
  imports: [EventsModule, IdentityModule],
  controllers: [AuditController],
  providers: PROVIDERS,
  exports: PROVIDERS,
})
export class AuditModule implements OnModuleInit {
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
