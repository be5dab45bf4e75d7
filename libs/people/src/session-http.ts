import { INestApplication } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AuthContext, DomainError } from '@app/platform';
import { authContextOf, SessionAuth, SessionService } from './session.service';
import { csrfMatches, readCookie, SESSION_COOKIE } from './session-token';

/** The routes that take HTML form bodies (platform's form parser, apps/api): the console's forms and sign-in/out. */
export const FORM_ROUTE_PREFIXES = ['/console/', '/auth/'];
/**
 * The routes a session cookie authenticates: the console, sign-in/out and the API the console's
 * script calls. Other routes (public pages such as /preferences/*) never look at the cookie, so
 * their own same-origin forms are not refused for lacking the session's CSRF token.
 */
export const SESSION_ROUTE_PREFIXES = ['/console/', '/auth/', '/v1/'];
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Routes a browser may post to without a session's CSRF token (there is no session yet). */
const CSRF_EXEMPT = new Set(['/auth/login']);

/** A request as the session hook leaves it. */
export type SessionRequest = FastifyRequest & {
  session?: SessionAuth;
  sessionId?: string;
  authenticated?: AuthContext;
};

/** Whether a route (its pattern, e.g. `/console/actions/:id`) is under one of the prefixes. */
export function routeUnder(route: string | undefined, prefixes: readonly string[]): boolean {
  if (!route) return false;
  return prefixes.some((p) => route.startsWith(p) || (p.endsWith('/') && route === p.slice(0, -1)));
}

export const isFormRequest = (req: FastifyRequest) =>
  String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');

/**
 * Browser sessions for the console, /auth and /v1 routes (SESSION_ROUTE_PREFIXES): a request
 * without an API key but with a session cookie is authenticated by the session (the API-key guard
 * then checks the role's scopes exactly as it checks a key's). Every change made with the cookie
 * must carry the session's CSRF token, as `X-CSRF-Token` or a form field `_csrf`.
 */
export function installSessions(app: INestApplication): void {
  const sessions = app.get(SessionService);
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  fastify.addHook('preHandler', async (req: SessionRequest) => {
    if (!routeUnder(req.routeOptions.url, SESSION_ROUTE_PREFIXES)) return;
    const header = req.headers.cookie;
    if (!header || req.authenticated) return;
    if (req.headers.authorization !== undefined || req.headers['x-api-key'] !== undefined) return;
    const id = readCookie(header, SESSION_COOKIE);
    if (!id) return;
    const session = await sessions.authenticate(id);
    if (!session) return;
    if (UNSAFE.has(req.method) && !CSRF_EXEMPT.has(req.routeOptions.url ?? '')) {
      const body = req.body as Record<string, unknown> | undefined;
      const presented =
        req.headers['x-csrf-token'] ?? (isFormRequest(req) ? body?._csrf : undefined);
      if (!csrfMatches(id, presented)) {
        throw new DomainError('forbidden', 'This change needs the session’s CSRF token');
      }
    }
    req.session = session;
    req.sessionId = id;
    req.authenticated = authContextOf(session);
  });
}
