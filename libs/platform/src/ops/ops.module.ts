import { DynamicModule, Global, Module } from '@nestjs/common';
import { EXPECTED_MIGRATIONS, HealthController } from './health.controller';
import { Metrics } from './metrics';
import { StateGauges } from './state-gauges';

@Global()
@Module({ providers: [Metrics, StateGauges], exports: [Metrics] })
export class MetricsModule {}

/** /livez, /healthz, /readyz and /metrics for a process that serves HTTP. */
@Module({})
export class OpsModule {
  static forMigrations(names: string[]): DynamicModule {
    return {
      module: OpsModule,
      controllers: [HealthController],
      providers: [{ provide: EXPECTED_MIGRATIONS, useValue: names }],
    };
  }
}
