import { Scope, SCOPES } from '@app/platform';

/** What a person can be in a tenant. */
export const ROLES = ['owner', 'admin', 'approver', 'member', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/**
 * What each role may do, as the same scopes API keys carry: a session is checked by the same
 * guard and the same scope rule (`admin` grants everything) as a key. The one table.
 *
 * - owner, admin: everything (owner is kept apart for who may make other owners).
 * - approver: works the AI-action queue and reads events and the audit chain.
 * - member: reads events, the audit chain and contacts.
 * - viewer: reads events and the audit chain; sees the queue, decides nothing.
 */
export const ROLE_SCOPES: Readonly<Record<Role, readonly Scope[]>> = {
  owner: ['admin'],
  admin: ['admin'],
  approver: ['events:read', 'audit:read', 'ai-actions:decide'],
  member: ['events:read', 'audit:read', 'contacts:read'],
  viewer: ['events:read', 'audit:read'],
};

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** The role's scopes, expanded: `admin` stands for every scope. */
export function scopesOf(role: Role): ReadonlySet<Scope> {
  const own = ROLE_SCOPES[role];
  return new Set<Scope>(own.includes('admin') ? SCOPES : own);
}
