import { Injectable, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { JobProcessor, Periodic } from './job-declarations';
import { ProcessorRegistry } from './processor-registry';
import { QueueName } from './queue-names';
import { RedisConnections } from './redis-connections';
import { Metrics } from '../ops/metrics';

const processorFor = (queue: QueueName) => {
  @Injectable()
  @JobProcessor()
  class Processor {
    readonly queue = queue;
    readonly concurrency = 1;
    process = () => Promise.resolve();
  }
  return Processor;
};

@JobProcessor()
abstract class BaseConsumer {
  abstract readonly queue: QueueName;
  readonly concurrency = 1;
  process = () => Promise.resolve();
}

@Injectable()
class AuditConsumer extends BaseConsumer {
  readonly queue = QueueName.Audit;
}

@Injectable()
class Sweeper {
  runs = 0;
  readonly interval = 1234;
  @Periodic('sweeper', (self: Sweeper) => self.interval)
  sweep() {
    this.runs++;
    return Promise.resolve();
  }
  @Periodic('purger', 60000)
  private purge() {
    return Promise.resolve();
  }
}

async function registryWith(...providers: (new (...args: never[]) => unknown)[]) {
  @Module({ imports: [DiscoveryModule], providers: [...providers, ProcessorRegistry] })
  class Host {}
  const moduleRef = await Test.createTestingModule({ imports: [Host] })
    .useMocker((token) => {
      if (token === RedisConnections) return {};
      if (token === Metrics) return {};
      return undefined;
    })
    .compile();
  return Object.assign(moduleRef.get(ProcessorRegistry), { moduleRef });
}

describe('ProcessorRegistry', () => {
  it('finds processors, inherited declarations included, and periodic tasks', async () => {
    const registry = await registryWith(
      AuditConsumer,
      processorFor(QueueName.Fanout),
      processorFor(QueueName.Delivery),
      Sweeper,
    );
    const { processors, periodic } = registry.declared();
    expect([...processors.keys()].sort()).toEqual(['audit', 'delivery', 'fanout']);
    expect(processors.get(QueueName.Audit)).toBeInstanceOf(AuditConsumer);
    expect(periodic.map((t) => [t.name, t.ms])).toEqual([
      ['sweeper', 1234],
      ['purger', 60000],
    ]);
  });

  it('runs a periodic task on its instance', async () => {
    const registry = await registryWith(Sweeper);
    const sweeper = registry.declared().periodic.find((t) => t.name === 'sweeper');
    await sweeper?.run();
    await sweeper?.run();
    expect(registry.moduleRef.get(Sweeper).runs).toBe(2);
  });

  it('refuses to start with a queue that has no processor', async () => {
    const registry = await registryWith(AuditConsumer, processorFor(QueueName.Delivery));
    expect(() => registry.start()).toThrow('No processor declared for queue fanout');
  });

  it('refuses two processors for one queue', async () => {
    const registry = await registryWith(AuditConsumer, processorFor(QueueName.Audit));
    expect(() => registry.declared()).toThrow('Two processors declared for queue audit');
  });
});
