import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { EventIngestor } from './event-ingestor';
import { EventRelay } from './event-relay';
import { EventStore } from './event-store';
import { EventViewRegistry } from './event-view-registry';
import { EventsController } from './events.controller';
import { PublishEventsHandler } from './publish-events.command';
import { StreamConsumerDeps } from './stream-consumer';
import { IdempotencyKeyPurger } from './idempotency-key-purger';

@Module({
  imports: [CqrsModule],
  controllers: [EventsController],
  providers: [
    EventStore,
    EventIngestor,
    EventRelay,
    EventViewRegistry,
    PublishEventsHandler,
    IdempotencyKeyPurger,
    StreamConsumerDeps,
  ],
  exports: [EventStore, EventRelay, EventViewRegistry, StreamConsumerDeps],
})
export class EventsModule {}
