export * from './identity.module';
export * from './tenant.service';
export * from './tenant.repository';
export * from './api-key.service';
export * from './migrations/1764000000001-create-identity';
export * from './keys/key-material';
export * from './service-key.repository';
export * from './migrations/1764000000003-create-service-keys';
export { authenticateBeforeBody } from './api-key.guard';
