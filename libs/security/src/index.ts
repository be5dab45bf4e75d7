export * from './constant-time';
export * from './pii-redactor';
export * from './secret-box';
export * from './security-error';
export * from './ssrf-guard';
