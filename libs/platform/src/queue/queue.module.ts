import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ProcessorRegistry } from './processor-registry';
import { QueueRegistry } from './queue-registry';
import { RedisConnections } from './redis-connections';

@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [RedisConnections, QueueRegistry, ProcessorRegistry],
  exports: [RedisConnections, QueueRegistry, ProcessorRegistry],
})
export class QueueModule {}
