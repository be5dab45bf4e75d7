import Fastify, { FastifyInstance } from 'fastify';
import pino from 'pino';
import { Writable } from 'node:stream';
import { installRequestContext, logContextMixin, RequestContext } from './request-context';
import { jobContext } from '../queue/processor-registry';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ mixin: logContextMixin }, stream) };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('request context in logs', () => {
  it('puts request id and tenant on lines written after awaits and after the body is read', async () => {
    const { lines, logger } = capture();
    const app = Fastify({
      loggerInstance: logger,
      genReqId: (req) => String(req.headers['x-request-id']),
    });
    installRequestContext(app as unknown as FastifyInstance);
    app.addHook('preHandler', async () => {
      await tick();
      RequestContext.assign({ tenantId: 't-1' }); // what the API-key guard does
    });
    app.post('/work', async () => {
      await tick();
      await new Promise((r) => setTimeout(r, 5));
      logger.warn('deep inside'); // the base logger, as Nest's Logger uses it
      return { ok: true };
    });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const res = await fetch(`${base}/work`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-42' },
      body: JSON.stringify({ a: 1 }),
    });
    expect(res.status).toBe(200);
    const line = lines.find((l) => l.msg === 'deep inside');
    expect(line).toMatchObject({ reqId: 'req-42', tenantId: 't-1' });
    await app.close();
  });

  it('keeps two concurrent requests apart', async () => {
    const { lines, logger } = capture();
    const app = Fastify({ loggerInstance: logger });
    installRequestContext(app as unknown as FastifyInstance);
    app.get('/t/:id', async (req) => {
      const { id } = req.params as { id: string };
      RequestContext.assign({ tenantId: id });
      await new Promise((r) => setTimeout(r, id === 'a' ? 20 : 1));
      logger.info({ said: id }, 'done');
      return {};
    });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    await Promise.all([fetch(`${base}/t/a`), fetch(`${base}/t/b`)]);
    const done = lines.filter((l) => l.msg === 'done');
    expect(done.map((l) => [l.said, l.tenantId])).toEqual([
      ['b', 'b'],
      ['a', 'a'],
    ]);
    expect(new Set(done.map((l) => l.reqId)).size).toBe(2);
    await app.close();
  });

  it('never repeats a key the logger binds, and adds nothing outside a context', () => {
    const { lines, logger } = capture();
    RequestContext.run({ reqId: 'r-1', tenantId: 't-1' }, () =>
      logger.child({ reqId: 'r-1' }).info('bound'),
    );
    logger.info('outside');
    const raw = JSON.stringify(lines[0]);
    expect(raw.match(/"reqId"/g)).toHaveLength(1);
    expect(lines[0]).toMatchObject({ reqId: 'r-1', tenantId: 't-1' });
    expect(lines[1]).not.toHaveProperty('tenantId');
    expect(lines[1]).not.toHaveProperty('reqId');
  });

  it('gives a job its queue, id and tenant', async () => {
    const { lines, logger } = capture();
    const ctx = jobContext('webhook', { id: 'job-9', data: { tenantId: 't-2', x: 1 } });
    await RequestContext.run(ctx, async () => {
      await tick();
      logger.info('attempt');
    });
    expect(lines[0]).toMatchObject({ queue: 'webhook', jobId: 'job-9', tenantId: 't-2' });
    expect(jobContext('relay', { id: '1', data: {} })).toEqual({
      queue: 'relay',
      jobId: '1',
      tenantId: undefined,
    });
  });
});
