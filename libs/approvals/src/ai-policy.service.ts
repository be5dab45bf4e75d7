import { Injectable } from '@nestjs/common';
import { AuthContext, Clock, Database } from '@app/platform';
import { EventStore } from '@app/events';
import { actorOf } from '@app/identity';
import { AiPolicyRepository, AiSettings } from './ai-policy.repository';
import { PutAiSettingsDto, PutPolicyDto } from './dto/ai-action.dto';
import { AiPolicy } from './risk-policy';

export interface PolicyView {
  type: string;
  risk: string;
  requiredApprovals: number | null;
  autoApprove: { max: number; windowSeconds: number } | null;
  version: number;
  updatedAt: string;
}

export const toPolicyView = (p: AiPolicy): PolicyView => ({
  type: p.type,
  risk: p.risk,
  requiredApprovals: p.requiredApprovals,
  autoApprove: p.autoApprove,
  version: p.version,
  updatedAt: p.updatedAt.toISOString(),
});

export const toSettingsView = (s: AiSettings) => ({
  paused: s.paused,
  reason: s.reason,
  updatedAt: s.updatedAt?.toISOString() ?? null,
});

/** Risk policies and the kill switch; every change is an event in `main`. */
@Injectable()
export class AiPolicyService {
  constructor(
    private readonly db: Database,
    private readonly repo: AiPolicyRepository,
    private readonly store: EventStore,
    private readonly clock: Clock,
  ) {}

  put(auth: AuthContext, type: string, dto: PutPolicyDto): Promise<PolicyView> {
    return this.db.transaction(async (tx) => {
      const policy = await this.repo.put(
        tx,
        auth.tenantId,
        {
          type,
          risk: dto.risk,
          requiredApprovals: dto.requiredApprovals ?? null,
          autoApprove: dto.autoApprove
            ? { max: dto.autoApprove.max, windowSeconds: dto.autoApprove.windowSeconds }
            : null,
        },
        this.clock.now(),
      );
      const view = toPolicyView(policy);
      await this.store.record(tx, {
        tenantId: auth.tenantId,
        type: 'ai_action.policy_changed',
        subject: `ai_policy/${type}`,
        actor: actorOf(auth),
        data: { ...view },
      });
      return view;
    });
  }

  async list(tenantId: string, afterType: string | null, limit: number) {
    return (await this.repo.list(tenantId, afterType, limit)).map(toPolicyView);
  }

  async settings(tenantId: string) {
    return toSettingsView(await this.repo.settings(tenantId));
  }

  /** Pausing and resuming are events (`ai_action.paused`, `ai_action.resumed`) in `main`. */
  putSettings(auth: AuthContext, dto: PutAiSettingsDto) {
    return this.db.transaction(async (tx) => {
      const reason = dto.reason ?? null;
      const { before, after } = await this.repo.putSettings(
        tx,
        auth.tenantId,
        dto.paused,
        reason,
        this.clock.now(),
      );
      if (before !== dto.paused) {
        await this.store.record(tx, {
          tenantId: auth.tenantId,
          type: dto.paused ? 'ai_action.paused' : 'ai_action.resumed',
          subject: 'ai_settings',
          actor: actorOf(auth),
          data: { paused: dto.paused, reason },
        });
      }
      return toSettingsView(after);
    });
  }
}
