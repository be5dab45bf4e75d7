export * from './event-types';
export * from './event-store';
export * from './event-reader';
export * from './event-relay';
export * from './event-view-registry';
export * from './stream-consumer';
export * from './events.module';
export * from './migrations/1764000000002-create-event-store';
