import { constantTimeEqual, randomToken, sha256Hex } from './constant-time';

describe('constantTimeEqual', () => {
  it('is true for equal strings and buffers', () => {
    expect(constantTimeEqual('secret', 'secret')).toBe(true);
    expect(constantTimeEqual(Buffer.from('secret'), 'secret')).toBe(true);
    expect(constantTimeEqual('', '')).toBe(true);
  });

  it('is false for different values, including different lengths, without throwing', () => {
    expect(constantTimeEqual('secret', 'secreT')).toBe(false);
    expect(constantTimeEqual('secret', 'secret-longer')).toBe(false);
    expect(constantTimeEqual('', 'x')).toBe(false);
    expect(constantTimeEqual(Buffer.from([0]), Buffer.from([0, 0]))).toBe(false);
  });

  it('compares bytes, not string encodings', () => {
    expect(constantTimeEqual('é', Buffer.from('é', 'utf8'))).toBe(true);
    expect(constantTimeEqual('é', Buffer.from('é', 'latin1'))).toBe(false);
  });
});

describe('randomToken', () => {
  it('returns base64url of the requested number of bytes', () => {
    const token = randomToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(Buffer.from(randomToken(16), 'base64url')).toHaveLength(16);
  });

  it('is different every time', () => {
    const seen = new Set(Array.from({ length: 50 }, () => randomToken()));
    expect(seen.size).toBe(50);
  });

  it('rejects invalid sizes', () => {
    expect(() => randomToken(0)).toThrow(RangeError);
    expect(() => randomToken(1.5)).toThrow(RangeError);
  });
});

describe('sha256Hex', () => {
  it('matches known vectors', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(sha256Hex(Buffer.from('abc'))).toBe(sha256Hex('abc'));
  });
});
