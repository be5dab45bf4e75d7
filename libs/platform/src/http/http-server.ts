import { INestApplication, INestApplicationContext, LoggerService } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { FastifyReply, FastifyRequest, LogController } from 'fastify';
import helmet from 'helmet';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import pino, { Logger } from 'pino';
import { LedgerlineConfig } from '../config/ledgerline-config';
import { installRequestContext, logContextMixin, RequestContext } from '../context/request-context';
import { Metrics } from '../ops/metrics';
import { installJsonBodyParser } from './json-body-parser';
import { buildOpenApiDocument } from './openapi-document';
import { ProblemFilter, sendProblem } from './problem.filter';
import { problemForStatus } from './problem';
import { createValidationPipe } from './validation';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Removes personal data from a log line's fields and message (the apps pass the PII redactor). */
export interface LogScrubber {
  redactString(value: string): string;
}

// Top-level string fields only: error objects and serializers' shapes pass through untouched.
const scrubFields = (scrubber: LogScrubber, fields: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(fields).map(([k, v]) => [
      k,
      typeof v === 'string' ? scrubber.redactString(v) : v,
    ]),
  );

/** JSON logs; credentials are redacted wherever a request is logged, PII wherever it appears. */
export function createLogger(
  config: LedgerlineConfig,
  name: string,
  scrubber?: LogScrubber,
): Logger {
  return pino({
    name,
    level: config.LOG_LEVEL,
    // Every line written while a request or job is handled names it (request id, tenant, job).
    mixin: logContextMixin,
    formatters: scrubber ? { log: (fields) => scrubFields(scrubber, fields) } : undefined,
    hooks: scrubber
      ? {
          logMethod(args, method) {
            const scrubbed = args.map((a) =>
              typeof a === 'string' ? scrubber.redactString(a) : a,
            );
            return method.apply(this, scrubbed as Parameters<typeof method>);
          },
        }
      : undefined,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["x-api-key"]',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
      ],
      censor: '[redacted]',
    },
  });
}

/** Nest's own log lines go through the same pino logger. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}

// helmet decides the security headers; they are the same for every answer, so its middleware
// runs once, at start, and each answer gets the headers it set (@fastify/helmet rebuilt the
// middleware on every request, a tenth of the API's CPU for single events; running the built
// middleware per request still cost a dozen calls).
const helmetMiddleware = helmet({
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      frameAncestors: ["'none'"],
    },
  },
  frameguard: { action: 'deny' },
  hsts: { maxAge: 31536000, includeSubDomains: true },
  referrerPolicy: { policy: 'no-referrer' },
});

const SECURITY_HEADERS: [string, string][] = (() => {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: unknown) => headers.set(name.toLowerCase(), String(value)),
    removeHeader: (name: string) => headers.delete(name.toLowerCase()),
  };
  helmetMiddleware({} as IncomingMessage, recorder as unknown as ServerResponse, () => undefined);
  return [...headers];
})();

function securityHeaders(res: ServerResponse): void {
  for (const [name, value] of SECURITY_HEADERS) res.setHeader(name, value);
}

/**
 * The router answers a malformed percent-encoding (400) or an over-long path segment (414)
 * before any hook runs: those answers get the security headers and a problem too.
 */
function answerFrameworkError(err: Error, req: FastifyRequest, reply: FastifyReply): void {
  securityHeaders(reply.raw);
  reply.header('x-request-id', req.id);
  sendProblem(reply, err, req);
}

/**
 * Node's HTTP parser refuses a request before fastify sees it: headers or a URL over the size
 * limit (431), a request too slow to arrive (408), anything unparsable (400). Fastify's default
 * answer is plain JSON; this one is a problem too.
 */
function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const status =
    err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const body = JSON.stringify(problemForStatus(status));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

/**
 * `trustProxy`: TRUST_PROXY's ranges. A request from one of them gets the client address from
 * X-Forwarded-For as request.ip (the per-IP limit and METRICS_ALLOWED_CIDRS read request.ip).
 */
export function createFastifyAdapter(logger: Logger, trustProxy: string[] = []): FastifyAdapter {
  return new FastifyAdapter({
    trustProxy: trustProxy.length ? trustProxy : false,
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
    loggerInstance: logger,
    // One line per answer (below), not fastify's two: logging is a hot-path cost.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 8 * 1024 * 1024,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    requestIdHeader: false,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
}

/**
 * Every error answer is problem+json, whoever wrote it (fastify's own 404, 415 or 503 while
 * closing included). A 5xx JSON document of our own (the readiness report) stays as it is.
 */
function asProblem(reply: FastifyReply, payload: unknown): unknown {
  const status = reply.statusCode;
  if (status < 400) return payload;
  const type = String(reply.getHeader('content-type') ?? '');
  if (type.startsWith('application/problem+json')) return payload;
  if (status >= 500 && type.startsWith('application/json')) return payload;
  reply.header('content-type', 'application/problem+json; charset=utf-8');
  reply.removeHeader('content-length');
  return JSON.stringify(problemForStatus(status));
}

/** Security headers, body parsing, problem+json, validation and OpenAPI for an HTTP app. */
export async function configureHttp(
  app: NestFastifyApplication,
  opts: { largeBodyRoutes?: Record<string, number>; docs?: boolean } = {},
): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  installRequestContext(fastify);
  fastify.addHook('onRequest', (_req, reply, done) => {
    securityHeaders(reply.raw);
    done();
  });
  installJsonBodyParser(fastify, opts.largeBodyRoutes);
  fastify.addHook('onSend', (req, reply, payload, done) => {
    reply.header('x-request-id', req.id);
    done(null, asProblem(reply, payload));
  });
  const metrics = app.get(Metrics);
  fastify.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: req.method, route, status: reply.statusCode });
    // One line per answer: the request's logger binds its id, its context adds the tenant.
    const level = reply.statusCode >= 500 ? 'error' : reply.statusCode >= 400 ? 'info' : 'debug';
    RequestContext.run(RequestContext.of(req) ?? {}, () =>
      req.log[level](
        { method: req.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
        'answered',
      ),
    );
    done();
  });
  app.useGlobalFilters(new ProblemFilter());
  app.useGlobalPipes(createValidationPipe());
  if (opts.docs) setupDocs(app);
}

/**
 * SIGTERM/SIGINT: stop taking requests and jobs, let in-flight work finish, close connections,
 * exit 0. (Nest's own shutdown hooks re-raise the signal, which exits non-zero.)
 */
export function exitCleanlyOnSignals(app: INestApplicationContext, logger: Logger): void {
  let closing = false;
  const close = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    // In-flight requests get a grace period; then idle or stuck sockets are closed so the
    // rest of the shutdown (jobs, pools) can finish. Past 30 s something is wrong: exit 1.
    const server = (app as INestApplication).getHttpServer?.() as
      { closeAllConnections?: () => void } | undefined;
    const grace = setTimeout(() => server?.closeAllConnections?.(), 5000);
    grace.unref();
    const force = setTimeout(() => process.exit(1), 30000);
    force.unref();
    app
      .close()
      .then(() => process.exit(0))
      .catch((err: Error) => {
        logger.error({ err: err.message }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => close('SIGTERM'));
  process.once('SIGINT', () => close('SIGINT'));
}

/** Swagger UI at /docs, the document itself at /docs/openapi.json (committed as docs/openapi.json). */
function setupDocs(app: INestApplication): void {
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs/openapi.json',
    raw: ['json'],
  });
}
