import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError } from './domain-error';

// The console's forms carry an action's edited input (up to 64 KiB of JSON).
export const FORM_BODY_LIMIT = 64 * 1024;

/**
 * `application/x-www-form-urlencoded` bodies (HTML forms, RFC 8058 one-click unsubscribe) for
 * the routes under `prefixes` only: every other route still answers such a body 415. A field
 * given twice keeps its last value; the result is a plain object of strings.
 */
export function installFormBodyParser(fastify: FastifyInstance, prefixes: string[]): void {
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
    (req: FastifyRequest, body: string | Buffer, done) => {
      const route = req.routeOptions.url ?? '';
      if (!prefixes.some((p) => route.startsWith(p))) {
        done(
          new DomainError('unsupported_media_type', 'This route takes application/json'),
          undefined,
        );
        return;
      }
      const fields: Record<string, string> = Object.create(null) as Record<string, string>;
      for (const [k, v] of new URLSearchParams(typeof body === 'string' ? body : body.toString())) {
        if (k.length <= 64) fields[k] = v;
      }
      done(null, { ...fields });
    },
  );
}
