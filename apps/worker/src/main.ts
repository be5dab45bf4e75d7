import 'reflect-metadata';
import { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  configureHttp,
  exitCleanlyOnSignals,
  createFastifyAdapter,
  createLogger,
  loadConfig,
  PinoNestLogger,
  ProcessorRegistry,
} from '@app/platform';
import { PiiRedactor } from '@app/security';
import { EventRelay } from '@app/events';
import { WorkerModule } from './worker.module';

/** Runs every background processor and the relay; WORKER_PORT adds a health/metrics listener. */
async function bootstrap(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'worker', new PiiRedactor());
  const app = await NestFactory.create<NestFastifyApplication>(
    WorkerModule,
    createFastifyAdapter(logger, config.TRUST_PROXY),
    {
      logger: new PinoNestLogger(logger),
      bodyParser: false,
    },
  );
  exitCleanlyOnSignals(app, logger);
  // The worker's modules declare no routes: its listener serves probes and metrics only.
  await configureHttp(app);
  if (config.WORKER_PORT !== undefined) await app.listen(config.WORKER_PORT, '0.0.0.0');
  else await app.init();
  app.get(ProcessorRegistry).start();
  await app.get(EventRelay).start();
  // The port bound (WORKER_PORT=0 takes a free one; null: no listener), whatever LOG_LEVEL.
  const address = config.WORKER_PORT === undefined ? null : app.getHttpServer().address();
  const port = (address as AddressInfo | null)?.port ?? null;
  logger.child({}, { level: 'info' }).info({ port }, 'worker running');
}

bootstrap().catch((err: Error) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
