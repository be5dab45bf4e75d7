import { grants, Scope, SCOPES } from '@app/platform';
import { isRole, ROLE_SCOPES, ROLES, scopesOf } from './roles';

describe('role → scopes table', () => {
  const can = (role: (typeof ROLES)[number], scope: Scope) => grants(scopesOf(role), [scope]);

  it('names every role, each with only known scopes', () => {
    expect(Object.keys(ROLE_SCOPES).sort()).toEqual([...ROLES].sort());
    for (const role of ROLES) for (const s of ROLE_SCOPES[role]) expect(SCOPES).toContain(s);
  });

  it('gives owners and admins every scope but admin', () => {
    for (const role of ['owner', 'admin'] as const) {
      for (const scope of SCOPES) expect(can(role, scope)).toBe(scope !== 'admin');
    }
  });

  it('never lets a session manage API keys (no role holds the admin scope)', () => {
    for (const role of ROLES) expect(scopesOf(role).has('admin')).toBe(false);
  });

  it('lets approvers decide but not submit, manage webhooks or administer', () => {
    expect(can('approver', 'ai-actions:decide')).toBe(true);
    expect(can('approver', 'audit:read')).toBe(true);
    for (const s of ['ai-actions:submit', 'webhooks:manage', 'admin', 'events:write'] as const) {
      expect(can('approver', s)).toBe(false);
    }
  });

  it('lets members and viewers decide nothing and change nothing', () => {
    for (const role of ['member', 'viewer'] as const) {
      expect(can(role, 'ai-actions:decide')).toBe(false);
      expect(can(role, 'webhooks:manage')).toBe(false);
      expect(can(role, 'events:write')).toBe(false);
      expect(can(role, 'audit:read')).toBe(true);
    }
    expect(can('member', 'contacts:read')).toBe(true);
    expect(can('viewer', 'contacts:read')).toBe(false);
  });

  it('recognises roles and nothing else', () => {
    expect(ROLES.every(isRole)).toBe(true);
    for (const v of ['Owner', 'root', '', null, 3]) expect(isRole(v)).toBe(false);
  });
});
