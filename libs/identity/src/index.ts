export * from './identity.module';
export * from './tenant.service';
export * from './api-key.service';
export * from './migrations/1764000000001-create-identity';
