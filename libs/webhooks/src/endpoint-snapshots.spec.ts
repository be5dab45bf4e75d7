import { EndpointSnapshots, SNAPSHOT_MS } from './endpoint-snapshots';
import { WebhookEndpoint } from './webhook-endpoint';
import { WebhookEndpointRepository } from './webhook-endpoint.repository';

function setup() {
  let status: WebhookEndpoint['status'] = 'enabled';
  let fail = false;
  const reads: string[] = [];
  const repo = {
    get: (tenantId: string, id: string) => {
      reads.push(`${tenantId}/${id}`);
      if (fail) return Promise.reject(new Error('connection lost'));
      return Promise.resolve({ tenantId, id, status } as WebhookEndpoint);
    },
  } as unknown as WebhookEndpointRepository;
  return {
    snapshots: new EndpointSnapshots(repo),
    reads,
    disable: () => (status = 'disabled'),
    failReads: (f: boolean) => (fail = f),
  };
}

describe('EndpointSnapshots', () => {
  afterEach(() => jest.useRealTimers());

  it('reads an endpoint once per SNAPSHOT_MS, shared by concurrent attempts', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const { snapshots, reads, disable } = setup();
    const [a, b] = await Promise.all([snapshots.current('t', 'e'), snapshots.current('t', 'e')]);
    expect(a?.status).toBe('enabled');
    expect(b).toBe(a);
    disable();
    jest.setSystemTime(1_000_000 + SNAPSHOT_MS - 1);
    expect((await snapshots.current('t', 'e'))?.status).toBe('enabled');
    jest.setSystemTime(1_000_000 + SNAPSHOT_MS);
    expect((await snapshots.current('t', 'e'))?.status).toBe('disabled');
    expect(reads).toEqual(['t/e', 't/e']);
  });

  it('forget makes the next attempt read again (this worker just disabled the endpoint)', async () => {
    const { snapshots, reads, disable } = setup();
    await snapshots.current('t', 'e');
    disable();
    snapshots.forget('t', 'e');
    expect((await snapshots.current('t', 'e'))?.status).toBe('disabled');
    expect(reads).toHaveLength(2);
  });

  it('does not keep a failed read', async () => {
    const { snapshots, reads, failReads } = setup();
    failReads(true);
    await expect(snapshots.current('t', 'e')).rejects.toThrow('connection lost');
    failReads(false);
    expect((await snapshots.current('t', 'e'))?.status).toBe('enabled');
    expect(reads).toHaveLength(2);
  });

  it('keeps tenants apart: the same endpoint id under another tenant is another read', async () => {
    const { snapshots, reads } = setup();
    await snapshots.current('t1', 'e');
    expect((await snapshots.current('t2', 'e'))?.tenantId).toBe('t2');
    expect(reads).toEqual(['t1/e', 't2/e']);
  });
});
