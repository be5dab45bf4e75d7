import { Global, Module } from '@nestjs/common';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { QueueModule } from './queue/queue.module';
import { MetricsModule } from './ops/ops.module';
import { Clock, IdGenerator } from './time/clock';
import { Mailer } from './mail/mailer';

/** Config, PostgreSQL, Redis/BullMQ, time, ids and outbound mail: what every capability stands on. */
@Global()
@Module({
  imports: [ConfigModule, DatabaseModule, QueueModule, MetricsModule],
  providers: [Clock, IdGenerator, Mailer],
  exports: [ConfigModule, DatabaseModule, QueueModule, MetricsModule, Clock, IdGenerator, Mailer],
})
export class PlatformModule {}
