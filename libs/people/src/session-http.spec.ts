import Fastify from 'fastify';
import { DomainError, installFormBodyParser } from '@app/platform';
import { FORM_ROUTE_PREFIXES, routeUnder, SESSION_ROUTE_PREFIXES } from './session-http';

describe('session routes and the console form parser', () => {
  it('runs the session hook on the console, /auth and /v1 only', () => {
    for (const r of ['/console', '/console/actions/:id', '/auth/login', '/v1/ai-actions']) {
      expect(routeUnder(r, SESSION_ROUTE_PREFIXES)).toBe(true);
    }
    for (const r of ['/preferences/:token', '/unsubscribe/:token', '/consoles', '/healthz']) {
      expect(routeUnder(r, SESSION_ROUTE_PREFIXES)).toBe(false);
    }
    expect(routeUnder(undefined, SESSION_ROUTE_PREFIXES)).toBe(false);
  });

  it('parses form bodies for the console and /auth and answers 415 elsewhere', async () => {
    const app = Fastify();
    installFormBodyParser(app, FORM_ROUTE_PREFIXES);
    app.setErrorHandler((err, _req, reply) => {
      const code = err instanceof DomainError ? err.code : 'other';
      void reply.status(code === 'unsupported_media_type' ? 415 : 500).send({ code });
    });
    for (const url of [
      '/console/actions/:id/decision',
      '/auth/login',
      '/v1/ai-actions',
      '/preferences/:t',
    ]) {
      app.post(url, (req) => ({ body: req.body }));
    }
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const post = async (url: string) => {
      const res = await fetch(`http://127.0.0.1:${port}${url}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'a=1&a=2&__proto__=x&_csrf=t',
      });
      return { statusCode: res.status, json: (await res.json()) as unknown };
    };
    for (const url of ['/console/actions/x/decision', '/auth/login']) {
      const res = await post(url);
      expect(res.statusCode).toBe(200);
      expect(res.json).toEqual({ body: { a: '2', _csrf: 't' } });
    }
    for (const url of ['/v1/ai-actions', '/preferences/abc']) {
      const res = await post(url);
      expect(res.statusCode).toBe(415);
      expect(res.json).toEqual({ code: 'unsupported_media_type' });
    }
    await app.close();
  });
});
