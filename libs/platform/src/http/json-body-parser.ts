import type { FastifyInstance, FastifyRequest } from 'fastify';
import sjson from 'secure-json-parse';
import { DomainError, FieldError } from './domain-error';

export const MAX_JSON_DEPTH = 64;
export const DEFAULT_BODY_LIMIT = 256 * 1024;
/** A `\u0000` escape preceded by an even number of backslashes (so not itself escaped). */
const ESCAPED_NUL = /(?<!\\)(?:\\\\)*\\u0000/;

/** Deepest nesting of objects and arrays, without recursion (hostile input may be deep). */
export function jsonDepth(value: unknown): number {
  return inspectJson(value).depth;
}

interface Frame {
  node: object;
  depth: number;
  parent?: Frame;
  key?: string;
}

const pathOf = (frame: Frame, key: string): string => {
  const keys = [key];
  for (let f: Frame | undefined = frame; f?.parent; f = f.parent) keys.push(f.key!);
  return keys.reverse().join('.');
};

// A lone UTF-16 surrogate (JSON's "\ud800"): neither PostgreSQL nor UTF-8 can hold it.
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * One pass over a parsed body, without recursion (hostile input may be deep): its nesting depth
 * (stops past the limit), and the first value JSON can write but Ledgerline cannot keep as sent:
 * a number outside double range (JSON.parse makes 1e400 Infinity, which would be stored as null)
 * or a string or key with a lone surrogate.
 */
export function inspectJson(value: unknown): { depth: number; problem?: FieldError } {
  const top = checkLeaf(value);
  if (top) return { depth: 0, problem: { field: 'body', message: top } };
  if (value === null || typeof value !== 'object') return { depth: 0 };
  let max = 0;
  const stack: Frame[] = [{ node: value, depth: 1 }];
  while (stack.length) {
    const frame = stack.pop()!;
    if (frame.depth > max) max = frame.depth;
    if (max > MAX_JSON_DEPTH) return { depth: max };
    const problem = Array.isArray(frame.node)
      ? visitItems(frame, frame.node, stack)
      : visitFields(frame, frame.node as Record<string, unknown>, stack);
    if (problem) return { depth: max, problem };
  }
  return { depth: max };
}

function visitItems(frame: Frame, items: unknown[], stack: Frame[]): FieldError | undefined {
  for (let i = 0; i < items.length; i++) {
    const child = items[i];
    const problem = checkLeaf(child);
    if (problem) return { field: pathOf(frame, String(i)), message: problem };
    if (child !== null && typeof child === 'object') {
      stack.push({ node: child, depth: frame.depth + 1, parent: frame, key: String(i) });
    }
  }
  return undefined;
}

function visitFields(
  frame: Frame,
  fields: Record<string, unknown>,
  stack: Frame[],
): FieldError | undefined {
  for (const key of Object.keys(fields)) {
    const child = fields[key];
    const problem = LONE_SURROGATE.test(key)
      ? 'keys may not contain lone surrogates'
      : checkLeaf(child);
    if (problem) return { field: pathOf(frame, key), message: problem };
    if (child !== null && typeof child === 'object') {
      stack.push({ node: child, depth: frame.depth + 1, parent: frame, key });
    }
  }
  return undefined;
}

function checkLeaf(v: unknown): string | undefined {
  if (typeof v === 'number' && !Number.isFinite(v)) return 'numbers must be within double range';
  if (typeof v === 'string' && LONE_SURROGATE.test(v)) {
    return 'strings may not contain lone surrogates (unpaired \\ud800-\\udfff)';
  }
  return undefined;
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isExponentMark = (c: number) => c === 101 || c === 69; // e E
const isSign = (c: number) => c === 43 || c === 45; // + -
/** `\\uD800`-`\\uDFFF` at i: the only way a JSON text decoded from UTF-8 holds a surrogate. */
function isSurrogateEscape(text: string, i: number): boolean {
  if (text.charCodeAt(i + 1) !== 117) return false; // u
  const d = text.charCodeAt(i + 2) | 32; // lower case
  const x = text.charCodeAt(i + 3) | 32;
  return d === 100 && ((x >= 56 && x <= 57) || (x >= 97 && x <= 102)); // d, 8-9 a-f
}

/**
 * One character scan of a JSON text before it is parsed: its nesting depth (stops past the limit,
 * so a hostile depth costs no parse), and whether it may hold a value Ledgerline cannot keep as
 * sent (a surrogate escape, a three-digit exponent or a 309-digit number), which inspectJson then
 * checks on the parsed value. Far cheaper than walking a parsed 4 MiB batch.
 */
export function scanJsonText(text: string): { depth: number; suspicious: boolean } {
  let depth = 0;
  let max = 0;
  let inString = false;
  let suspicious = false;
  let digits = 0;
  let exponent = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) {
        if (!suspicious && isSurrogateEscape(text, i)) suspicious = true;
        i++;
      } else if (c === 34) inString = false;
      continue;
    }
    if (isDigit(c)) {
      if (digits++ === 0) {
        const p = text.charCodeAt(i - 1);
        exponent = isExponentMark(p) || (isSign(p) && isExponentMark(text.charCodeAt(i - 2)));
      }
      if ((exponent && digits >= 3) || digits >= 309) suspicious = true;
      continue;
    }
    digits = 0;
    if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) max = depth;
      if (max > MAX_JSON_DEPTH) break;
    } else if (c === 125 || c === 93) depth--;
  }
  return { depth: max, suspicious };
}

/**
 * JSON bodies: size limit (413), `__proto__`/`constructor.prototype` keys refused, nesting
 * deeper than 64, numbers outside double range and lone surrogates refused (400). Routes may allow a larger body via `largeBodyRoutes`.
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
      const scan = scanJsonText(text);
      if (scan.depth > MAX_JSON_DEPTH) {
        done(
          DomainError.invalid('body', `JSON nested deeper than ${MAX_JSON_DEPTH} levels`),
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
      const problem = scan.suspicious ? inspectJson(parsed).problem : undefined;
      if (problem) {
        done(DomainError.invalid(problem.field, problem.message), undefined);
        return;
      }
      done(null, parsed);
    },
  );
}
