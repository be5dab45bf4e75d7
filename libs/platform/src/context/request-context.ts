import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

/** What every log line written while handling one request or one job carries. */
export interface LogContext {
  reqId?: string;
  tenantId?: string;
  keyId?: string;
  jobId?: string;
  queue?: string;
}

const storage = new AsyncLocalStorage<LogContext>();
const CONTEXT = Symbol('ledgerline.logContext');
type WithContext = FastifyRequest & { [CONTEXT]?: LogContext };

/** The request's or job's context, carried through awaits by AsyncLocalStorage. */
export const RequestContext = {
  run<T>(context: LogContext, work: () => T): T {
    return storage.run(context, work);
  },
  current(): LogContext | undefined {
    return storage.getStore();
  },
  /** Adds fields (e.g. the tenant once the key is known) to the current request or job. */
  assign(fields: Partial<LogContext>): void {
    const store = storage.getStore();
    if (store) Object.assign(store, fields);
  },
  /** The context a request was given in onRequest (also outside its async scope). */
  of(req: FastifyRequest): LogContext | undefined {
    return (req as WithContext)[CONTEXT];
  },
};

/**
 * pino mixin: the current context's fields, except those the logger already binds (fastify's
 * request logger binds reqId) so no key appears twice on a line.
 */
export function logContextMixin(
  _merge: object,
  _level: number,
  logger?: Logger,
): Record<string, string> {
  const store = storage.getStore();
  if (!store) return {};
  const bound = logger ? logger.bindings() : {};
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(store)) {
    if (value !== undefined && !(key in bound)) fields[key] = String(value);
  }
  return fields;
}

/**
 * Each request runs in its own context from onRequest on. A body parser that reads the stream
 * itself may continue in the socket's scope, so the handler's hook enters the context again.
 */
export function installRequestContext(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (req, _reply, done) => {
    const context: LogContext = { reqId: req.id };
    (req as WithContext)[CONTEXT] = context;
    storage.run(context, done);
  });
  const reenter = (req: FastifyRequest, _reply: unknown, done: () => void) => {
    const context = (req as WithContext)[CONTEXT];
    return context ? storage.run(context, done) : done();
  };
  fastify.addHook('preHandler', reenter);
}
