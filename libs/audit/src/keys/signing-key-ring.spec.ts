import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { SecretBox } from '@app/security';
import { KeyEndorsements } from './key-endorsements';
import { keyIdOf, ListedKey, SigningKeyRing } from './signing-key-ring';

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { privateKey, pem, keyId: keyIdOf(publicKey) };
}

const payload = Buffer.from('{"chain":"main","seq":3}');
const signed = (k: ReturnType<typeof keyPair>) => sign(null, payload, k.privateKey);

const masterKey = () => randomBytes(32);

describe('SigningKeyRing trust rules', () => {
  const master = masterKey();
  const box = new SecretBox({ current: master });
  const endorsements = new KeyEndorsements(box);
  const own = keyPair();
  const old = keyPair();
  const dba = keyPair();

  const ring = (listed: ListedKey[]) => SigningKeyRing.trusting([own.pem], listed, endorsements);
  const endorsed = (k: ReturnType<typeof keyPair>, by = endorsements): ListedKey => ({
    publicKey: k.pem,
    endorsements: [by.endorse(k.keyId)],
  });

  it('trusts the key the service holds now, listed or not', () => {
    const r = ring([]);
    expect([r.size, r.trusts(own.keyId)]).toEqual([1, true]);
    expect(r.verifies(payload, signed(own), own.keyId)).toBe(true);
    expect(r.verifies(payload, signed(own), null)).toBe(true);
  });

  it('trusts a listed key with its endorsement: its checkpoints verify by keyId and unnamed', () => {
    const r = ring([endorsed(old)]);
    expect([r.size, r.trusts(old.keyId)]).toEqual([2, true]);
    expect(r.verifies(payload, signed(old), old.keyId)).toBe(true);
    expect(r.verifies(payload, signed(old), null)).toBe(true);
    expect(r.verifies(payload, signed(old), own.keyId)).toBe(false);
  });

  it('does not trust a listed key without an endorsement', () => {
    const r = ring([{ publicKey: dba.pem, endorsements: [] }]);
    expect(r.trusts(dba.keyId)).toBe(false);
    expect(r.verifies(payload, signed(dba), dba.keyId)).toBe(false);
    expect(r.verifies(payload, signed(dba), null)).toBe(false);
  });

  it('does not trust an endorsement made for another key, nor one forged under another master key', () => {
    const moved = endorsements.endorse(old.keyId);
    const forger = new KeyEndorsements(new SecretBox({ current: masterKey() }));
    const r = ring([
      { publicKey: dba.pem, endorsements: [moved] },
      { publicKey: old.pem, endorsements: [forger.endorse(old.keyId)] },
    ]);
    expect([r.size, r.trusts(dba.keyId), r.trusts(old.keyId)]).toEqual([1, false, false]);
    expect(r.verifies(payload, signed(dba), dba.keyId)).toBe(false);
    expect(r.verifies(payload, signed(dba), null)).toBe(false);
  });

  it('does not trust a legacy value bound to no owner, even if its plaintext is the statement', () => {
    const unbound = box.seal(`audit-signing-key:${dba.keyId}`);
    expect(ring([{ publicKey: dba.pem, endorsements: [unbound] }]).trusts(dba.keyId)).toBe(false);
  });

  it('does not trust an endorsement naming another keyId under the right owner binding', () => {
    const wrongStatement = box.seal(
      `audit-signing-key:${old.keyId}`,
      `audit_signing_key/${dba.keyId}`,
    );
    expect(ring([{ publicKey: dba.pem, endorsements: [wrongStatement] }]).trusts(dba.keyId)).toBe(
      false,
    );
  });

  it('accepts any one valid endorsement among junk, and skips rows that are not Ed25519 keys', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    const r = ring([
      {
        publicKey: old.pem,
        endorsements: ['junk', 'v2.0000000000000000.a.b.c', ...endorsed(old).endorsements],
      },
      { publicKey: 'not a pem', endorsements: [] },
      { publicKey: rsa.export({ type: 'spki', format: 'pem' }).toString(), endorsements: [] },
    ]);
    expect([r.size, r.trusts(old.keyId)]).toEqual([2, true]);
  });

  it('endorsements made under the previous master key still count; rekey is needed only to drop it', () => {
    const previous = new KeyEndorsements(new SecretBox({ current: master }));
    const next = masterKey();
    const rotatedBox = new SecretBox({ current: next, previous: master });
    const rotated = new KeyEndorsements(rotatedBox);
    const e = previous.endorse(old.keyId);
    expect([rotated.endorses(e, old.keyId), rotated.isCurrent(e, old.keyId)]).toEqual([
      true,
      false,
    ]);
    const again = rotated.endorse(old.keyId);
    expect([rotated.endorses(again, old.keyId), rotated.isCurrent(again, old.keyId)]).toEqual([
      true,
      true,
    ]);
    // once the previous master key is dropped, only the new endorsement opens
    const after = new KeyEndorsements(new SecretBox({ current: next }));
    expect([after.endorses(e, old.keyId), after.endorses(again, old.keyId)]).toEqual([false, true]);
  });
});
