import { Cluster } from 'ioredis';
import { loadConfig } from '../config/ledgerline-config';
import { clusterNodes, RedisConnections } from './redis-connections';

describe('REDIS_CLUSTER_NODES', () => {
  it('is read as host:port entries', () => {
    const config = loadConfig({ REDIS_CLUSTER_NODES: ' 127.0.0.1:7001,redis-b:7002 , ' });
    expect(config.REDIS_CLUSTER_NODES).toEqual(['127.0.0.1:7001', 'redis-b:7002']);
    expect(clusterNodes(config.REDIS_CLUSTER_NODES)).toEqual([
      { host: '127.0.0.1', port: 7001 },
      { host: 'redis-b', port: 7002 },
    ]);
  });

  it.each(['127.0.0.1', 'redis://a:1', 'a:b', ':7001'])('refuses %p', (value) => {
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: value })).toThrow(/REDIS_CLUSTER_NODES/);
  });

  it('makes every client a Cluster client when set, and standalone clients otherwise', async () => {
    const onCluster = new RedisConnections(
      loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:1', QUEUE_PREFIX: 'q' }),
    );
    const standalone = new RedisConnections(loadConfig({ REDIS_URL: 'redis://127.0.0.1:1/0' }));
    try {
      expect(onCluster.isCluster).toBe(true);
      expect(onCluster.shared).toBeInstanceOf(Cluster);
      expect(onCluster.open({ failFast: true })).toBeInstanceOf(Cluster);
      expect(onCluster.queuePrefix).toBe('{q}');
      expect(standalone.shared).not.toBeInstanceOf(Cluster);
    } finally {
      await onCluster.onApplicationShutdown();
      await standalone.onApplicationShutdown();
    }
  });
});
