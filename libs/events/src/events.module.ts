import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { EventEraser } from './event-eraser';
import { EventIngestor } from './event-ingestor';
import { EventRelay } from './event-relay';
import { EventStore } from './event-store';
import { EventReader } from './event-reader';
import { EventViewRegistry } from './event-view-registry';
import { EventsController } from './events.controller';
import { PublishEventsHandler } from './publish-events.command';
import { StreamConsumerDeps } from './stream-consumer';
import { StreamCursorRepository } from './stream-cursor.repository';
import { IdempotencyKeyPurger } from './idempotency-key-purger';
import { IdempotencyKeyRepository } from './idempotency-key.repository';

/** The event store and what other capabilities build on it; no transport. */
@Module({
  providers: [
    EventStore,
    EventReader,
    EventViewRegistry,
    StreamConsumerDeps,
    StreamCursorRepository,
    IdempotencyKeyRepository,
    EventEraser,
  ],
  exports: [
    EventStore,
    EventReader,
    EventViewRegistry,
    StreamConsumerDeps,
    StreamCursorRepository,
    IdempotencyKeyRepository,
    EventEraser,
  ],
})
export class EventsModule {}

/** `POST /v1/events` and friends: the group-committing ingestor behind the command. */
@Module({
  imports: [EventsModule, CqrsModule],
  controllers: [EventsController],
  providers: [EventIngestor, PublishEventsHandler],
})
export class EventsHttpModule {}

/** The relay from the store to BullMQ, and the idempotency-key purge. */
@Module({
  imports: [EventsModule],
  providers: [EventRelay, IdempotencyKeyPurger],
  exports: [EventRelay],
})
export class EventsWorkerModule {}
