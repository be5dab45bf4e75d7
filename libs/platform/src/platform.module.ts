import { Global, Module } from '@nestjs/common';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { QueueModule } from './queue/queue.module';
import { MetricsModule } from './ops/ops.module';
import { Clock, IdGenerator } from './time/clock';

/** Config, PostgreSQL, Redis/BullMQ, time and ids: what every capability stands on. */
@Global()
@Module({
  imports: [ConfigModule, DatabaseModule, QueueModule, MetricsModule],
  providers: [Clock, IdGenerator],
  exports: [ConfigModule, DatabaseModule, QueueModule, MetricsModule, Clock, IdGenerator],
})
export class PlatformModule {}
