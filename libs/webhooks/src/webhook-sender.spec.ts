import { Clock, LedgerlineConfig } from '@app/platform';
import { StoredEvent } from '@app/events';
import { SsrfGuard } from '@app/security';
import { EndpointSecrets } from './endpoint-secrets';
import { PinnedHttpClient } from './pinned-http-client';
import { WebhookEndpoint } from './webhook-endpoint';
import { WebhookSender } from './webhook-sender';

const event: StoredEvent = {
  tenantId: 't',
  id: 'e',
  position: 1,
  type: 'x.y',
  subject: null,
  actor: { type: 'user', id: 'u' },
  actingAsTenantId: null,
  occurredAt: new Date(0),
  receivedAt: new Date(0),
  data: {},
};
const endpoint = {
  tenantId: 't',
  id: 'ep',
  url: 'https://hooks.example.com/in',
} as WebhookEndpoint;

function sender(lookup: (host: string) => Promise<string[]>) {
  const posts: string[] = [];
  const http = {
    post: (_id: string, _url: URL, address: string) => {
      posts.push(address);
      return Promise.resolve({ statusCode: 204, headers: {}, body: '' });
    },
  } as unknown as PinnedHttpClient;
  const secrets = { signing: () => ['whsec_c2VjcmV0'] } as unknown as EndpointSecrets;
  const clock = { now: () => new Date() } as Clock;
  const config = { WEBHOOK_TIMEOUT_MS: 1000 } as LedgerlineConfig;
  const guard = new SsrfGuard({ allowHttp: false, allowedCidrs: [], lookup });
  return { send: new WebhookSender(config, guard, http, secrets, clock), posts };
}

const dnsError = (code: string) => Object.assign(new Error(`getaddrinfo ${code}`), { code });

describe('WebhookSender', () => {
  it.each([
    ['ENOTFOUND', () => Promise.reject(dnsError('ENOTFOUND'))],
    ['EAI_AGAIN', () => Promise.reject(dnsError('EAI_AGAIN'))],
    ['no addresses', () => Promise.resolve([])],
  ])('records a DNS failure (%s) as dns_failure, not blocked_destination', async (_, lookup) => {
    const { send, posts } = sender(lookup);
    const sent = await send.send(endpoint, 'd', event);
    expect(sent).toMatchObject({ statusCode: null, error: 'dns_failure', body: null });
    expect(posts).toEqual([]);
  });

  it('records a name resolving to a refused address as blocked_destination', async () => {
    const { send, posts } = sender(() => Promise.resolve(['93.184.216.34', '10.0.0.7']));
    expect(await send.send(endpoint, 'd', event)).toMatchObject({ error: 'blocked_destination' });
    expect(posts).toEqual([]);
  });

  it('posts to the checked address when the name resolves to public addresses', async () => {
    const { send, posts } = sender(() => Promise.resolve(['93.184.216.34']));
    expect(await send.send(endpoint, 'd', event)).toMatchObject({ statusCode: 204, error: null });
    expect(posts).toEqual(['93.184.216.34']);
  });
});
