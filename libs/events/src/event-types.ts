export const ACTOR_TYPES = ['user', 'service', 'ai_agent', 'system'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

/** Ledgerline's own changes use these prefixes; publishers may not. */
export const RESERVED_PREFIXES = [
  'tenant.',
  'api_key.',
  'webhook.',
  'audit.',
  'ai_action.',
  'consent.',
  'messaging.',
  'console.',
];

/**
 * Ledgerline's own per-step records that belong to one chain only (the `ai` chain's AI-action
 * steps): in no other chain, and never delivered to webhooks.
 */
export const CHAIN_ONLY_PREFIXES = ['ai_action.step.'];

export function isChainOnlyType(type: string): boolean {
  return CHAIN_ONLY_PREFIXES.some((p) => type.startsWith(p));
}

export function isReservedType(type: string): boolean {
  return RESERVED_PREFIXES.some((p) => type.startsWith(p));
}

export interface Actor {
  type: ActorType;
  id: string;
}

export interface NewEvent {
  tenantId: string;
  id: string;
  type: string;
  subject: string | null;
  actor: Actor;
  actingAsTenantId: string | null;
  occurredAt: Date;
  receivedAt: Date;
  data: Record<string, unknown>;
}

export interface StoredEvent extends NewEvent {
  position: number;
}

export interface EventView {
  id: string;
  type: string;
  subject: string | null;
  actor: Actor;
  actingAsTenantId: string | null;
  occurredAt: string;
  receivedAt: string;
  data: Record<string, unknown>;
}

export function toEventView(e: NewEvent): EventView {
  return {
    id: e.id,
    type: e.type,
    subject: e.subject,
    actor: e.actor,
    actingAsTenantId: e.actingAsTenantId,
    occurredAt: e.occurredAt.toISOString(),
    receivedAt: e.receivedAt.toISOString(),
    data: e.data,
  };
}
