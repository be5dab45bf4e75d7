import 'reflect-metadata';
import { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  configureHttp,
  installFormBodyParser,
  installMultipartFieldParser,
  exitCleanlyOnSignals,
  createFastifyAdapter,
  createLogger,
  loadConfig,
  PinoNestLogger,
} from '@app/platform';
import { authenticateBeforeBody } from '@app/identity';
import { FORM_ROUTE_PREFIXES, installSessions } from '@app/people';
import { PiiRedactor } from '@app/security';
import { ApiModule } from './api.module';

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'api', new PiiRedactor());
  const app = await NestFactory.create<NestFastifyApplication>(
    ApiModule,
    createFastifyAdapter(logger, config.TRUST_PROXY),
    {
      logger: new PinoNestLogger(logger),
      bodyParser: false,
    },
  );
  exitCleanlyOnSignals(app, logger);
  const largeBodyRoutes = { '/v1/events/batch': 4 * 1024 * 1024 };
  await configureHttp(app, { largeBodyRoutes, docs: true });
  authenticateBeforeBody(app, Object.keys(largeBodyRoutes));
  // HTML forms: the contacts' pages (preference centre, RFC 8058 one-click) and the console.
  installFormBodyParser(app.getHttpAdapter().getInstance(), [
    '/preferences/',
    '/unsubscribe/',
    '/consent/',
    ...FORM_ROUTE_PREFIXES,
  ]);
  // RFC 8058 one-click unsubscribe may also come as multipart/form-data (fields only).
  installMultipartFieldParser(app.getHttpAdapter().getInstance(), ['/unsubscribe/']);
  installSessions(app);
  await app.listen(config.PORT, '0.0.0.0');
  // The port bound (PORT=0 takes a free one), whatever LOG_LEVEL: whoever started us reads it.
  const { port } = app.getHttpServer().address() as AddressInfo;
  logger.child({}, { level: 'info' }).info({ port }, 'api listening');
}

bootstrap().catch((err: Error) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
