import { SecurityError } from './security-error';

describe('SecurityError', () => {
  it('carries code, status and message', () => {
    const err = new SecurityError('unsafe_url', 422, 'nope');
    expect(err).toBeInstanceOf(SecurityError);
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('unsafe_url');
    expect(err.status).toBe(422);
    expect(err.message).toBe('nope');
    expect(err.name).toBe('SecurityError');
  });

  it('supports every code', () => {
    for (const [code, status] of [
      ['validation_failed', 400],
      ['blocked_destination', 502],
      ['decrypt_failed', 500],
    ] as const) {
      const err = new SecurityError(code, status, code);
      expect(err.code).toBe(code);
      expect(err.status).toBe(status);
    }
  });
});
