import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { EventIngestor } from './event-ingestor';
import { EventRelay } from './event-relay';
import { EventStore } from './event-store';
import { EventReader } from './event-reader';
import { EventViewRegistry } from './event-view-registry';
import { EventsController } from './events.controller';
import { PublishEventsHandler } from './publish-events.command';
import { StreamConsumerRegistry } from './stream-consumer-registry';
import { StreamConsumerDeps } from './stream-consumer';
import { IdempotencyKeyPurger } from './idempotency-key-purger';

@Module({
  imports: [CqrsModule],
  controllers: [EventsController],
  providers: [
    EventStore,
    EventReader,
    EventIngestor,
    EventRelay,
    EventViewRegistry,
    StreamConsumerRegistry,
    PublishEventsHandler,
    IdempotencyKeyPurger,
    StreamConsumerDeps,
  ],
  exports: [
    EventStore,
    EventReader,
    EventRelay,
    EventViewRegistry,
    StreamConsumerRegistry,
    StreamConsumerDeps,
  ],
})
export class EventsModule {}
