export * from './html';
export * from './assets';
export * from './console.module';
export * from './console.controller';
