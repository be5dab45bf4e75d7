export type SecurityErrorCode =
  'unsafe_url' | 'validation_failed' | 'blocked_destination' | 'decrypt_failed';

/**
 * Error raised by the security primitives. `code` and `status` map directly onto the API error
 * body (`{error: {code, message}}`) and HTTP status.
 */
export class SecurityError extends Error {
  constructor(
    readonly code: SecurityErrorCode,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'SecurityError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
