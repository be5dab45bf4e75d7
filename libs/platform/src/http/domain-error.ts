/** Stable error codes; the map below is exhaustive, so an unmapped code does not compile. */
export type ErrorCode =
  | 'validation_failed'
  | 'unauthorized'
  | 'tenant_mismatch'
  | 'insufficient_scope'
  | 'forbidden'
  | 'not_found'
  | 'idempotency_conflict'
  | 'conflict'
  | 'reserved_type'
  | 'unsafe_url'
  | 'method_not_allowed'
  | 'request_timeout'
  | 'payload_too_large'
  | 'uri_too_long'
  | 'headers_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'internal_error'
  | 'unavailable'
  | 'separation_of_duties'
  | 'already_decided'
  | 'not_pending'
  | 'input_changed'
  | 'not_submitter'
  | 'not_executable'
  | 'ai_paused'
  | 'account_locked';

export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  validation_failed: 400,
  unauthorized: 401,
  tenant_mismatch: 403,
  insufficient_scope: 403,
  forbidden: 403,
  not_found: 404,
  idempotency_conflict: 409,
  conflict: 409,
  reserved_type: 422,
  unsafe_url: 422,
  method_not_allowed: 405,
  request_timeout: 408,
  payload_too_large: 413,
  uri_too_long: 414,
  headers_too_large: 431,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  unavailable: 503,
  separation_of_duties: 403,
  already_decided: 409,
  not_pending: 409,
  input_changed: 409,
  not_submitter: 403,
  not_executable: 409,
  ai_paused: 409,
  account_locked: 429,
};

export interface FieldError {
  field: string;
  message: string;
}

/** An error the caller can act on; services throw these, the filter maps them to problem+json. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }

  get status(): number {
    return STATUS_BY_CODE[this.code];
  }

  static notFound(what: string): DomainError {
    return new DomainError('not_found', `${what} not found`);
  }

  static invalid(field: string, message: string): DomainError {
    return new DomainError('validation_failed', 'The request is not valid', [{ field, message }]);
  }
}
