import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError } from './domain-error';

// The console's forms carry an action's edited input (up to 64 KiB of JSON).
export const FORM_BODY_LIMIT = 64 * 1024;
/** One-click unsubscribe's multipart bodies carry one short field. */
export const MULTIPART_BODY_LIMIT = 16 * 1024;

const POISONED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

type Fields = Record<string, string>;
type FieldsOf = (req: FastifyRequest, body: string) => Fields | DomainError;

/**
 * A body parser for the routes under `prefixes` only: every other route takes JSON alone, so a
 * form body there is refused (415) as if no form parser were installed.
 */
function formBodyParser(prefixes: string[], fieldsOf: FieldsOf) {
  return (
    req: FastifyRequest,
    body: string | Buffer,
    done: (err: Error | null, fields?: Fields) => void,
  ) => {
    const route = req.routeOptions.url ?? '';
    if (!prefixes.some((p) => route.startsWith(p))) {
      done(
        new DomainError('unsupported_media_type', 'This route takes application/json'),
        undefined,
      );
      return;
    }
    const fields = fieldsOf(req, typeof body === 'string' ? body : body.toString());
    if (fields instanceof DomainError) done(fields, undefined);
    else done(null, fields);
  };
}

/**
 * `application/x-www-form-urlencoded` bodies (HTML forms, RFC 8058 one-click unsubscribe) for
 * the routes under `prefixes` only: every other route still answers such a body 415. A field
 * given twice keeps its last value; the result is a plain object of strings.
 */
export function installFormBodyParser(fastify: FastifyInstance, prefixes: string[]): void {
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
    formBodyParser(prefixes, (_req, body) => urlencodedFields(body)),
  );
}

function urlencodedFields(body: string): Fields {
  const fields: Fields = {};
  for (const [k, v] of new URLSearchParams(body)) acceptField(fields, k, v);
  return fields;
}

/** One field rule for both formats: names up to 64 characters, none that reaches a prototype. */
function acceptField(fields: Fields, name: string, value: string): void {
  if (name.length <= 64 && !POISONED_KEYS.has(name)) fields[name] = value;
}

/**
 * `multipart/form-data` with fields only (RFC 8058 §3.1: one-click unsubscribe POSTs are often
 * sent this way) for the routes under `prefixes` only, bounded to {@link MULTIPART_BODY_LIMIT}: at
 * most 32 parts, a name up to 64 characters, a value up to 4096; a file part is refused.
 */
export function installMultipartFieldParser(fastify: FastifyInstance, prefixes: string[]): void {
  fastify.addContentTypeParser(
    'multipart/form-data',
    { parseAs: 'string', bodyLimit: MULTIPART_BODY_LIMIT },
    formBodyParser(
      prefixes,
      (req, body) =>
        parseMultipartFields(String(req.headers['content-type'] ?? ''), body) ??
        DomainError.invalid('body', 'must be multipart/form-data with fields only'),
    ),
  );
}

/** The fields of a field-only multipart body, or null when it is malformed or holds a file. */
export function parseMultipartFields(
  contentType: string,
  body: string,
): Record<string, string> | null {
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) return null;
  const delimiter = `--${boundary}`;
  const chunks = body.split(delimiter);
  if (chunks.length < 2 || chunks.length > 34) return null;
  const last = chunks[chunks.length - 1];
  if (!last.startsWith('--')) return null; // no closing delimiter
  const fields: Fields = {};
  for (const chunk of chunks.slice(1, -1)) {
    const part = chunk.replace(/^\r?\n/, '').replace(/\r?\n$/, '');
    const split = /\r?\n\r?\n/.exec(part);
    if (!split) return null;
    const headers = part.slice(0, split.index);
    const value = part.slice(split.index + split[0].length);
    const disposition = /^content-disposition:\s*form-data\s*;(.*)$/im.exec(headers);
    if (!disposition || /\bfilename\*?=/i.test(disposition[1])) return null;
    const name = /\bname="([^"]*)"/i.exec(disposition[1])?.[1];
    if (name === undefined) return null;
    acceptField(fields, name, value.slice(0, 4096));
  }
  return fields;
}
