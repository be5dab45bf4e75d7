export * from './audit-entry';
export * from './audit-chain-appender';
export * from './audit-chain-verifier';
export * from './audit-entry.repository';
export * from './checkpoint.service';
export * from './checkpoint-sweeper';
export * from './audit.module';
export * from './migrations/1764000000004-create-audit';
