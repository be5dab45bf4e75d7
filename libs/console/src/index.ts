export * from './html';
export * from './assets';
export * from './console.module';
export * from './console.controller';
export * from './notices/approver-notices';
export * from './notices/approver-notice.repository';
export * from './migrations/1764000000072-create-approver-notices';
