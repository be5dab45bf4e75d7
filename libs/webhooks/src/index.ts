export * from './webhooks.module';
export * from './webhook-dispatcher';
export * from './delivery-outcome-policy';
export * from './webhook-signer';
export * from './secret-rekeyer';
export * from './migrations/1764000000005-create-webhooks';
export * from './migrations/1764000000006-endpoint-slow-lane';
export * from './migrations/1764000001005-endpoint-start-position';
