import { Agent } from 'undici';
import { PinnedHttpClient } from './pinned-http-client';

type Pools = {
  agents: Map<string, Agent>;
  agentFor(endpointId: string, origin: string, address: string): Agent;
};

describe('PinnedHttpClient pools', () => {
  it('keeps one pool per endpoint and closes only the least recently used beyond 1,000', async () => {
    const client = new PinnedHttpClient();
    const pools = client as unknown as Pools;
    const origin = 'https://hooks.example.com';
    const first = pools.agentFor('e0', origin, '203.0.113.7');
    expect(pools.agentFor('e1', origin, '203.0.113.7')).not.toBe(first); // same origin, own pool
    for (let i = 2; i < 1000; i++) pools.agentFor(`e${i}`, origin, '203.0.113.7');
    expect(pools.agentFor('e0', origin, '203.0.113.7')).toBe(first); // e0 is now the freshest
    const closed = jest.spyOn(pools.agents.get(`e1|${origin}|203.0.113.7`)!, 'close');
    pools.agentFor('e1000', origin, '203.0.113.7');
    expect(pools.agents.size).toBe(1000);
    expect(closed).toHaveBeenCalled();
    expect(pools.agents.has(`e1|${origin}|203.0.113.7`)).toBe(false);
    expect(pools.agentFor('e0', origin, '203.0.113.7')).toBe(first);
    await client.onApplicationShutdown();
  });
});
