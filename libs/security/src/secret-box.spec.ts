import { randomBytes } from 'node:crypto';
import { sha256Hex } from './constant-time';
import { SecretBox } from './secret-box';
import { SecurityError } from './security-error';

function expectDecryptFailed(fn: () => unknown): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(SecurityError);
  expect((caught as SecurityError).code).toBe('decrypt_failed');
  expect((caught as SecurityError).status).toBe(500);
}

function flipChar(s: string): string {
  const c = s[0] === 'A' ? 'B' : 'A';
  return c + s.slice(1);
}

describe('SecretBox', () => {
  const keyA = randomBytes(32);
  const keyB = randomBytes(32);

  it('roundtrips, including empty and unicode plaintexts', () => {
    const box = new SecretBox({ current: keyA });
    for (const plaintext of ['whsec_abc', '', 'ünïcødé ✓ 🔐', 'x'.repeat(10_000)]) {
      const sealed = box.seal(plaintext);
      expect(box.open(sealed)).toBe(plaintext);
    }
  });

  it('uses the documented sealed format and key id', () => {
    const box = new SecretBox({ current: keyA });
    const sealed = box.seal('hello');
    const parts = sealed.split('.');
    expect(parts).toHaveLength(5);
    expect(parts[0]).toBe('v1');
    expect(parts[1]).toBe(sha256Hex(keyA).slice(0, 16));
    expect(box.currentKeyId).toBe(sha256Hex(keyA).slice(0, 16));
    expect(Buffer.from(parts[2], 'base64url')).toHaveLength(12);
    expect(Buffer.from(parts[4], 'base64url')).toHaveLength(16);
    expect(sealed).not.toContain('hello');
    for (const part of parts.slice(2)) {
      expect(part).toMatch(/^[A-Za-z0-9_-]*$/);
    }
  });

  it('uses a different IV (and ciphertext) every time', () => {
    const box = new SecretBox({ current: keyA });
    const sealed = Array.from({ length: 20 }, () => box.seal('same plaintext'));
    const ivs = new Set(sealed.map((s) => s.split('.')[2]));
    expect(ivs.size).toBe(20);
    expect(new Set(sealed).size).toBe(20);
  });

  it('detects tampering with ciphertext, tag, iv and key id', () => {
    const box = new SecretBox({ current: keyA, previous: keyB });
    const sealed = box.seal('top secret value');
    const [v, id, iv, ct, tag] = sealed.split('.');
    expectDecryptFailed(() => box.open([v, id, iv, flipChar(ct), tag].join('.')));
    expectDecryptFailed(() => box.open([v, id, iv, ct, flipChar(tag)].join('.')));
    expectDecryptFailed(() => box.open([v, id, flipChar(iv), ct, tag].join('.')));
    // re-labelling a value with the other known key id fails too
    const otherId = new SecretBox({ current: keyB }).currentKeyId;
    expectDecryptFailed(() => box.open([v, otherId, iv, ct, tag].join('.')));
  });

  it('fails with decrypt_failed on unknown key ids and malformed values', () => {
    const sealed = new SecretBox({ current: keyB }).seal('x');
    const box = new SecretBox({ current: keyA });
    expectDecryptFailed(() => box.open(sealed));
    for (const bad of [
      '',
      'v1',
      'v2.a.b.c.d',
      'not.a.sealed.value',
      'v1.zz.a.b.c',
      `${sealed}.x`,
    ]) {
      expectDecryptFailed(() => box.open(bad));
    }
  });

  it('opens values sealed under the previous key, and seals with the current one', () => {
    const old = new SecretBox({ current: keyB });
    const oldSealed = old.seal('rotated secret');
    const rotated = new SecretBox({ current: keyA, previous: keyB });
    expect(rotated.open(oldSealed)).toBe('rotated secret');
    expect(rotated.isCurrent(oldSealed)).toBe(false);
    const resealed = rotated.seal(rotated.open(oldSealed));
    expect(rotated.isCurrent(resealed)).toBe(true);
    expect(resealed.split('.')[1]).toBe(rotated.currentKeyId);
    // once the previous key is dropped, old values no longer open
    expectDecryptFailed(() => new SecretBox({ current: keyA }).open(oldSealed));
  });

  describe('bound to an owner', () => {
    const ownerA = 'webhook_endpoint/tenant-a/endpoint-1';
    const ownerB = 'webhook_endpoint/tenant-b/endpoint-2';

    it('opens only for the owner it was sealed for', () => {
      const box = new SecretBox({ current: keyA });
      const sealed = box.seal('whsec_abc', ownerA);
      expect(sealed.startsWith(box.ownedPrefix)).toBe(true);
      expect(box.open(sealed, ownerA)).toBe('whsec_abc');
      // moved to another tenant's endpoint, to another endpoint of the same tenant, or read
      // without an owner: it does not open
      expectDecryptFailed(() => box.open(sealed, ownerB));
      expectDecryptFailed(() => box.open(sealed, 'webhook_endpoint/tenant-a/endpoint-3'));
      expectDecryptFailed(() => box.open(sealed));
      expectDecryptFailed(() => box.open(sealed, ''));
    });

    it('cannot be relabelled as a legacy value to drop the owner', () => {
      const box = new SecretBox({ current: keyA });
      const [, ...rest] = box.seal('whsec_abc', ownerA).split('.');
      expectDecryptFailed(() => box.open(['v1', ...rest].join('.'), ownerB));
      expectDecryptFailed(() => box.open(['v1', ...rest].join('.')));
    });

    it('still opens a legacy value for any owner until it is rekeyed, which binds it', () => {
      const box = new SecretBox({ current: keyA, previous: keyB });
      const legacy = new SecretBox({ current: keyA }).seal('old secret');
      expect(box.open(legacy, ownerA)).toBe('old secret');
      expect(box.isCurrent(legacy)).toBe(true);
      expect(box.isCurrent(legacy, ownerA)).toBe(false);
      const rekeyed = box.seal(box.open(legacy, ownerA), ownerA);
      expect(box.isCurrent(rekeyed, ownerA)).toBe(true);
      expect(box.open(rekeyed, ownerA)).toBe('old secret');
      expectDecryptFailed(() => box.open(rekeyed, ownerB));
      // an owned value under the previous key is not current either
      const previous = new SecretBox({ current: keyB }).seal('p', ownerA);
      expect(box.open(previous, ownerA)).toBe('p');
      expect(box.isCurrent(previous, ownerA)).toBe(false);
    });
  });

  it('isCurrent is false for malformed values', () => {
    const box = new SecretBox({ current: keyA });
    expect(box.isCurrent('garbage')).toBe(false);
    expect(box.isCurrent('')).toBe(false);
  });

  it('rejects keys that are not 32 bytes', () => {
    expect(() => new SecretBox({ current: randomBytes(16) })).toThrow(/32 bytes/);
    expect(() => new SecretBox({ current: keyA, previous: randomBytes(31) })).toThrow(/32 bytes/);
  });

  describe('fromBase64', () => {
    it('builds a box from base64 keys', () => {
      const box = SecretBox.fromBase64(keyA.toString('base64'), keyB.toString('base64'));
      const old = SecretBox.fromBase64(keyB.toString('base64'));
      expect(box.currentKeyId).toBe(new SecretBox({ current: keyA }).currentKeyId);
      expect(box.open(old.seal('s'))).toBe('s');
    });

    it('ignores an empty previous key', () => {
      expect(() => SecretBox.fromBase64(keyA.toString('base64'), '')).not.toThrow();
    });

    it('names LEDGERLINE_MASTER_KEY when the key is not 32 bytes', () => {
      expect(() => SecretBox.fromBase64(randomBytes(16).toString('base64'))).toThrow(
        /LEDGERLINE_MASTER_KEY/,
      );
      expect(() => SecretBox.fromBase64('')).toThrow(/LEDGERLINE_MASTER_KEY/);
      expect(() => SecretBox.fromBase64('not base64 at all!')).toThrow(/LEDGERLINE_MASTER_KEY/);
      expect(() =>
        SecretBox.fromBase64(keyA.toString('base64'), randomBytes(8).toString('base64')),
      ).toThrow(/LEDGERLINE_MASTER_KEY_PREVIOUS/);
    });
  });
});
