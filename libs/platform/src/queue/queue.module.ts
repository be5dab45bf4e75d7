import { Global, Module } from '@nestjs/common';
import { ProcessorRegistry } from './processor-registry';
import { QueueRegistry } from './queue-registry';
import { RedisConnections } from './redis-connections';

@Global()
@Module({
  providers: [RedisConnections, QueueRegistry, ProcessorRegistry],
  exports: [RedisConnections, QueueRegistry, ProcessorRegistry],
})
export class QueueModule {}
