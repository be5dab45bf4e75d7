import { HttpException } from '@nestjs/common';
import { DomainError, ErrorCode, FieldError, STATUS_BY_CODE } from './domain-error';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: FieldError[];
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
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
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

function problem(status: number, code: string, detail: string, errors?: FieldError[]): Problem {
  return {
    type: `https://ledgerline.dev/problems/${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    ...(errors ? { errors } : {}),
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
  const e = err as { code?: unknown; status?: unknown; statusCode?: unknown; message?: unknown };
  // Our dependencies being away is a 503 the caller can retry, not a 500.
  if (e.message === 'timeout exceeded when trying to connect') {
    return { problem: problem(503, 'unavailable', 'The service is busy; retry shortly') };
  }
  if (
    typeof e.code === 'string' &&
    (/^(08|57P)/.test(e.code) || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT'].includes(e.code))
  ) {
    return {
      problem: problem(503, 'unavailable', 'A backing service is unavailable; retry shortly'),
    };
  }
  // PostgreSQL data exceptions (class 22: bad encoding, out-of-range values) are the caller's input.
  if (
    typeof e.code === 'string' &&
    /^22[0-9A-Z]{3}$/.test(e.code) &&
    'severity' in (err as object)
  ) {
    return {
      problem: problem(400, 'validation_failed', 'A value in the request cannot be stored'),
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

export { STATUS_BY_CODE };
