import { Global, Module } from '@nestjs/common';
import { LedgerlineConfig, loadConfig } from './ledgerline-config';

@Global()
@Module({
  providers: [{ provide: LedgerlineConfig, useFactory: () => loadConfig() }],
  exports: [LedgerlineConfig],
})
export class ConfigModule {}
