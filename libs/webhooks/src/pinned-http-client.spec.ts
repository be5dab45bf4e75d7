import { Agent } from 'undici';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
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

describe('PinnedHttpClient answers', () => {
  let server: Server;
  let url: URL;
  const client = new PinnedHttpClient();

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url === '/hang') return; // never answers
        if (req.url === '/paced') {
          res.writeHead(429, { 'retry-after': '7' });
          return res.end('slow down');
        }
        if (req.url === '/long') {
          res.writeHead(200);
          const chunk = 'x'.repeat(16 * 1024);
          const write = (left: number): void => {
            if (left === 0 || res.destroyed) return void res.end();
            res.write(chunk, () => write(left - 1));
          };
          return write(1024); // 16 MiB, if anyone read it all
        }
        res.end(`ok\u0000${'y'.repeat(2000)}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = new URL(`http://localhost:${(server.address() as AddressInfo).port}/`);
  });

  afterAll(async () => {
    await client.onApplicationShutdown();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const post = (path: string, timeoutMs = 2000) =>
    client.post('ep', new URL(path, url), '127.0.0.1', { 'x-t': '1' }, '{}', timeoutMs);

  it('keeps the first 1 KiB of the answer, NUL replaced', async () => {
    const res = await post('/ok');
    expect(res.statusCode).toBe(200);
    expect(res.body).toHaveLength(1024);
    expect(res.body.startsWith('ok\uFFFDy')).toBe(true);
  });

  it('hands over the headers (Retry-After on a 429)', async () => {
    const res = await post('/paced');
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.body).toBe('slow down');
  });

  it('stops reading a long answer after 64 KiB', async () => {
    const res = await post('/long');
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('x'.repeat(1024));
  });

  it('gives up at the timeout with a TimeoutError', async () => {
    const started = Date.now();
    await expect(post('/hang', 200)).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('passes a refused connection on with its code', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const dead = new URL(`http://localhost:${port}/`);
    await expect(client.post('gone', dead, '127.0.0.1', {}, '{}', 1000)).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });
});
