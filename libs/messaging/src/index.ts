export * from './message';
export * from './message.service';
export * from './message.repository';
export * from './message-dispatcher';
export * from './quiet-hours';
export * from './messaging.module';
export * from './migrations/1764000000062-create-messages';
