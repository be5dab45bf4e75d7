/** What an API key (or a session, see @app/people's roles) may do. */
export const SCOPES = [
  'events:write',
  'events:read',
  'audit:read',
  'webhooks:manage',
  'ai-actions:submit',
  'ai-actions:decide',
  'contacts:read',
  'contacts:write',
  'messages:send',
  'admin',
] as const;
export type Scope = (typeof SCOPES)[number];
