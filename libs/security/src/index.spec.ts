import * as security from './index';

describe('@app/security index', () => {
  it('re-exports the public API', () => {
    expect(typeof security.SecurityError).toBe('function');
    expect(typeof security.constantTimeEqual).toBe('function');
    expect(typeof security.randomToken).toBe('function');
    expect(typeof security.sha256Hex).toBe('function');
    expect(typeof security.PiiRedactor).toBe('function');
    expect(typeof security.SecretBox).toBe('function');
    expect(typeof security.SsrfGuard).toBe('function');
  });
});
