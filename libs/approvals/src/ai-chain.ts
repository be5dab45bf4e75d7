import { AuditChainDefinition } from '@app/audit';
import { AI_STEP_PREFIX } from './ai-action.events';

/** The tenant's `ai` chain: every step of every AI action (SPEC 6), redacted by the appender. */
export const AI_CHAIN: AuditChainDefinition = {
  chain: 'ai',
  selects: (event) => event.type.startsWith(AI_STEP_PREFIX),
  toEntry: (event) => ({
    eventId: event.id,
    type: event.type,
    subject: event.subject,
    actor: { type: event.actor.type, id: event.actor.id },
    actingAsTenantId: event.actingAsTenantId,
    data: event.data,
    occurredAt: event.occurredAt,
  }),
};
