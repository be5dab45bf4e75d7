import type { FastifyInstance, FastifyRequest } from 'fastify';
import sjson from 'secure-json-parse';
import { DomainError } from './domain-error';

export const MAX_JSON_DEPTH = 64;
export const DEFAULT_BODY_LIMIT = 256 * 1024;
/** A `\u0000` escape preceded by an even number of backslashes (so not itself escaped). */
const ESCAPED_NUL = /(?<!\\)(?:\\\\)*\\u0000/;

/** Deepest nesting of objects and arrays, without recursion (hostile input may be deep). */
export function jsonDepth(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth + 1 > max) max = depth + 1;
    if (max > MAX_JSON_DEPTH) return max;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return max;
}

/**
 * JSON bodies: size limit (413), `__proto__`/`constructor.prototype` keys refused, nesting
 * deeper than 64 refused (400). Routes may allow a larger body via `largeBodyRoutes`.
 */
export function installJsonBodyParser(
  fastify: FastifyInstance,
  largeBodyRoutes: Record<string, number> = {},
): void {
  const ceiling = Math.max(DEFAULT_BODY_LIMIT, ...Object.values(largeBodyRoutes));
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: ceiling },
    (req: FastifyRequest, body: string | Buffer, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      const limit = largeBodyRoutes[req.routeOptions.url ?? ''] ?? DEFAULT_BODY_LIMIT;
      if (Buffer.byteLength(text) > limit) {
        done(
          new DomainError('payload_too_large', `The body is larger than ${limit} bytes`),
          undefined,
        );
        return;
      }
      if (text.trim() === '') {
        done(null, undefined);
        return;
      }
      // PostgreSQL text and jsonb cannot hold NUL; refuse it here rather than fail at the insert.
      if (ESCAPED_NUL.test(text)) {
        done(
          DomainError.invalid('body', 'Strings may not contain NUL (\\u0000) characters'),
          undefined,
        );
        return;
      }
      let parsed: unknown;
      try {
        parsed = sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
      } catch (err) {
        const message = (err as Error).message.includes('prototype')
          ? 'The body contains a forbidden key (__proto__ or constructor.prototype)'
          : 'The body is not valid JSON';
        done(DomainError.invalid('body', message), undefined);
        return;
      }
      if (jsonDepth(parsed) > MAX_JSON_DEPTH) {
        done(
          DomainError.invalid('body', `JSON nested deeper than ${MAX_JSON_DEPTH} levels`),
          undefined,
        );
        return;
      }
      done(null, parsed);
    },
  );
}
