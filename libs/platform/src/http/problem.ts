import { HttpException } from '@nestjs/common';
import { DomainError, ErrorCode, FieldError, STATUS_BY_CODE } from './domain-error';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: FieldError[];
  /** Present when `errors` lists only the first MAX_LISTED_ERRORS of them. */
  errorCount?: number;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  411: 'Length Required',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  405: 'method_not_allowed',
  408: 'request_timeout',
  413: 'payload_too_large',
  414: 'uri_too_long',
  431: 'headers_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

/** A 400 lists at most this many field errors, and says how many there were. */
export const MAX_LISTED_ERRORS = 20;
const RETRY_AFTER_SECONDS = '1';

// Connection failures (08), deadlock and serialisation failures that outlasted their retries
// (40001, 40P01), too many connections and other exhausted resources (53), an operator or
// shutdown cancelling the query (57), and the pool or socket giving up.
const TRANSIENT_SQLSTATE = /^(08[0-9A-Z]{3}|40001|40P01|53[0-9A-Z]{3}|57[0-9A-Z]{3}|55P03)$/;
const TRANSIENT_NODE = [
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
];
const TRANSIENT_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'Client has encountered a connection error and is not queryable',
];

function isTransient(code: unknown, message: unknown): boolean {
  if (typeof code === 'string' && (TRANSIENT_SQLSTATE.test(code) || TRANSIENT_NODE.includes(code)))
    return true;
  return typeof message === 'string' && TRANSIENT_MESSAGES.includes(message);
}

const MAX_DETAIL_CHARS = 300;

function problem(status: number, code: string, text: string, given?: FieldError[]): Problem {
  // Framework messages can echo the request (a 100 KB path): the answer stays small.
  const detail = text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS)}…` : text;
  // A validation failure always says what failed, even when the framework gave no field.
  const errors =
    code === 'validation_failed' && !given?.length
      ? [{ field: 'request', message: detail }]
      : given;
  const listed =
    errors && errors.length > MAX_LISTED_ERRORS ? errors.slice(0, MAX_LISTED_ERRORS) : errors;
  return {
    type: `https://ledgerline.dev/problems/${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    ...(listed ? { errors: listed } : {}),
    ...(errors && listed !== errors ? { errorCount: errors.length } : {}),
  };
}

/** Maps anything thrown to a problem document. Unknown errors become a 500 without details. */
export function toProblem(err: unknown): { problem: Problem; headers?: Record<string, string> } {
  if (err instanceof DomainError) {
    return {
      problem: problem(err.status, err.code, err.message, err.errors),
      headers: err.headers,
    };
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const code = CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal_error' : 'validation_failed');
    return { problem: problem(status, code, status >= 500 ? 'Unexpected error' : err.message) };
  }
  const e = err as {
    code?: unknown;
    status?: unknown;
    statusCode?: unknown;
    message?: unknown;
  };
  const fromDatabase = typeof e.code === 'string' && 'severity' in (err as object);
  // Our dependencies being away or contended is a 503 the caller can retry, not a 500.
  if (isTransient(e.code, e.message)) {
    return {
      problem: problem(
        503,
        'unavailable',
        'The service is busy or a backing service is away; retry shortly',
      ),
      headers: { 'retry-after': RETRY_AFTER_SECONDS },
    };
  }
  // PostgreSQL data exceptions (class 22: bad encoding, out-of-range values) and integrity
  // violations (class 23) come from the caller's input: a duplicate is a conflict, the rest a 400.
  if (fromDatabase && /^2[23][0-9A-Z]{3}$/.test(e.code as string)) {
    if (e.code === '23505') {
      return { problem: problem(409, 'conflict', 'The request conflicts with a stored resource') };
    }
    return {
      problem: problem(400, 'validation_failed', 'A value in the request cannot be stored', [
        { field: 'request', message: 'a value in the request cannot be stored' },
      ]),
    };
  }
  // Security building blocks and fastify's parser errors carry a status of their own.
  const status = Number(e.status ?? e.statusCode);
  if (status >= 400 && status < 500) {
    const known = typeof e.code === 'string' && e.code in STATUS_BY_CODE;
    const code = known ? (e.code as string) : (CODE_BY_STATUS[status] ?? 'validation_failed');
    const detail = typeof e.message === 'string' ? e.message : TITLES[status];
    return { problem: problem(status, code, detail) };
  }
  return { problem: problem(500, 'internal_error', 'Unexpected error') };
}

/** A problem for an answer the framework wrote itself, from its status alone. */
export function problemForStatus(status: number): Problem {
  const code = CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal_error' : 'validation_failed');
  return problem(status, code, TITLES[status] ?? 'Error');
}

export { STATUS_BY_CODE };
