import { INestApplication } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AuthContext, DomainError } from '@app/platform';
import { authContextOf, SessionAuth, SessionService } from './session.service';
import { csrfMatches, readCookie, SESSION_COOKIE } from './session-token';

export const FORM_BODY_LIMIT = 64 * 1024;
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Routes a browser may post to without a session's CSRF token (there is no session yet). */
const CSRF_EXEMPT = new Set(['/auth/login']);

/** A request as the session hook leaves it. */
export type SessionRequest = FastifyRequest & {
  session?: SessionAuth;
  sessionId?: string;
  authenticated?: AuthContext;
};

/** application/x-www-form-urlencoded as a plain object of strings (the last of a name wins). */
export function parseForm(text: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of new URLSearchParams(text)) {
    if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
    out[k] = v;
  }
  return out;
}

export const isFormRequest = (req: FastifyRequest) =>
  String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');

/**
 * Browser sessions for every route: a request without an API key but with a session cookie is
 * authenticated by the session (the API-key guard then checks the role's scopes exactly as it
 * checks a key's). Every change made with the cookie must carry the session's CSRF token, as
 * `X-CSRF-Token` or a form field `_csrf`. Also parses HTML form bodies.
 */
export function installSessions(app: INestApplication): void {
  const sessions = app.get(SessionService);
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
    (_req, body, done) => done(null, parseForm(String(body))),
  );
  fastify.addHook('preHandler', async (req: SessionRequest) => {
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
