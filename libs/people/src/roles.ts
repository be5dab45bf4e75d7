// Not the @app/platform barrel: the CLI reads ROLES to parse --role without loading Nest.
import { Scope, SCOPES } from '@app/platform/http/scopes';

/** What a person can be in a tenant. */
export const ROLES = ['owner', 'admin', 'approver', 'member', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/**
 * What each role may do, as the same scopes API keys carry: a session is checked by the same
 * guard and the same scope rule (`admin` grants everything) as a key. The one table.
 *
 * - owner, admin: every scope but `admin` itself (owner is kept apart for who may make other
 *   owners). A session never holds `admin`: that scope manages API keys (and AI policies), and a
 *   stolen 12-hour cookie must not become a permanent all-scope key that survives sign-out.
 * - approver: works the AI-action queue and reads events and the audit chain.
 * - member: reads events, the audit chain and contacts.
 * - viewer: reads events and the audit chain; sees the queue, decides nothing.
 */
/** Everything a key can do except `admin` (API-key management and AI policies). */
const ALL_BUT_ADMIN: readonly Scope[] = SCOPES.filter((s) => s !== 'admin');

export const ROLE_SCOPES: Readonly<Record<Role, readonly Scope[]>> = {
  owner: ALL_BUT_ADMIN,
  admin: ALL_BUT_ADMIN,
  approver: ['events:read', 'audit:read', 'ai-actions:decide'],
  member: ['events:read', 'audit:read', 'contacts:read'],
  viewer: ['events:read', 'audit:read'],
};

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** The role's scopes (never `admin`, so a session never manages API keys). */
export function scopesOf(role: Role): ReadonlySet<Scope> {
  return new Set<Scope>(ROLE_SCOPES[role]);
}
