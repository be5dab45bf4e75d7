import { randomBytes } from 'node:crypto';
import { Clock } from '@app/platform';
import { KeyMaterial } from '@app/identity';
import { SecretBox } from '@app/security';
import { EndpointSecrets } from './endpoint-secrets';
import { WebhookEndpoint } from './webhook-endpoint';

const key = randomBytes(32);
const secrets = new EndpointSecrets(
  { secretBox: new SecretBox({ current: key }) } as unknown as KeyMaterial,
  { now: () => new Date() } as Clock,
);
const endpoint = (tenantId: string, id: string, secretSealed: string) =>
  ({ tenantId, id, secretSealed, previousSecretSealed: null }) as unknown as WebhookEndpoint;

describe('EndpointSecrets', () => {
  it("signs with an endpoint's own secret only: moved to another endpoint or tenant, it fails", () => {
    const sealed = secrets.seal('tenant-b', 'ep-b', 'whsec_b');
    expect(secrets.signing(endpoint('tenant-b', 'ep-b', sealed))).toEqual(['whsec_b']);
    expect(() => secrets.signing(endpoint('tenant-a', 'ep-a', sealed))).toThrow(/decrypt/);
    expect(() => secrets.signing(endpoint('tenant-b', 'ep-other', sealed))).toThrow(/decrypt/);
    expect(() => secrets.signing(endpoint('tenant-a', 'ep-b', sealed))).toThrow(/decrypt/);
  });

  it('opens a legacy value (sealed without an owner) until it is rekeyed', () => {
    const legacy = new SecretBox({ current: key }).seal('whsec_old');
    expect(legacy.startsWith(secrets.boundPrefix)).toBe(false);
    expect(secrets.open('t', 'e', legacy)).toBe('whsec_old');
    const rebound = secrets.seal('t', 'e', secrets.open('t', 'e', legacy));
    expect(rebound.startsWith(secrets.boundPrefix)).toBe(true);
    expect(() => secrets.open('t', 'other', rebound)).toThrow(/decrypt/);
  });

  it('opens a sealed secret once, then signs from memory; a new sealed value opens again', () => {
    const box = new SecretBox({ current: key });
    const open = jest.spyOn(box, 'open');
    const cached = new EndpointSecrets(
      { secretBox: box } as unknown as KeyMaterial,
      {
        now: () => new Date(),
      } as Clock,
    );
    const first = cached.seal('t', 'e', 'whsec_one');
    expect(cached.signing(endpoint('t', 'e', first))).toEqual(['whsec_one']);
    expect(cached.signing(endpoint('t', 'e', first))).toEqual(['whsec_one']);
    expect(open).toHaveBeenCalledTimes(1);
    const rotated = cached.seal('t', 'e', 'whsec_two');
    expect(cached.signing(endpoint('t', 'e', rotated))).toEqual(['whsec_two']);
    expect(open).toHaveBeenCalledTimes(2);
    // Remembered per owner: the same sealed value under another endpoint still fails.
    expect(() => cached.signing(endpoint('t', 'other', first))).toThrow(/decrypt/);
  });
});
