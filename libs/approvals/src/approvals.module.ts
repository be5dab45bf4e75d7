import { Module, OnModuleInit } from '@nestjs/common';
import { EventsModule } from '@app/events';
import { IdentityModule } from '@app/identity';
import { AuditChainRegistry, AuditModule } from '@app/audit';
import { AI_CHAIN } from './ai-chain';
import { AiActionRepository } from './ai-action.repository';
import { AiActionScheduler } from './ai-action.scheduler';
import { AiActionService } from './ai-action.service';
import { AiSubmissions } from './ai-action.submissions';
import { AiPolicyRepository } from './ai-policy.repository';
import { AiPolicyService } from './ai-policy.service';
import { AiActionsController, AiPoliciesController } from './ai-actions.controller';
import { ExecutorRegistry } from './executors/executor-registry';
import { ExecutorRunner } from './ai-action.executor-runner';
import { AiExecutionProcessor, AiExpiryProcessor } from './ai-action.processors';
import { ReceiptSigners } from './receipt-signer';

const CORE = [
  AiActionRepository,
  AiActionScheduler,
  AiActionService,
  AiSubmissions,
  AiPolicyRepository,
  AiPolicyService,
  ExecutorRegistry,
  ExecutorRunner,
  ReceiptSigners,
];

/**
 * AI actions, risk policies, the kill switch and the executor registry; no transport. Registers
 * the `ai` audit chain. A capability with an in-process executor imports this module and calls
 * `ExecutorRegistry.register(executor)` in its onModuleInit: that is the whole wiring.
 */
@Module({
  imports: [EventsModule, IdentityModule, AuditModule],
  providers: CORE,
  exports: CORE,
})
export class ApprovalsModule implements OnModuleInit {
  constructor(private readonly chains: AuditChainRegistry) {}

  onModuleInit(): void {
    if (!this.chains.all().some((c) => c.chain === 'ai')) this.chains.register(AI_CHAIN);
  }
}

/** `/v1/ai-actions`, `/v1/ai-policies`, `/v1/settings/ai`. */
@Module({
  imports: [ApprovalsModule, IdentityModule],
  controllers: [AiActionsController, AiPoliciesController],
})
export class ApprovalsHttpModule {}

/** Expiry (delayed jobs plus a sweeper) and in-process execution. */
@Module({
  imports: [ApprovalsModule],
  providers: [AiExpiryProcessor, AiExecutionProcessor],
})
export class ApprovalsWorkerModule {}
