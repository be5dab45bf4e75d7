import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledgerline } from './support/ledgerline';

const ROOT = join(__dirname, '..');
const REGENERATE = 'npm run build && npm run openapi && git diff --stat docs clients';
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const PUBLIC = new Set([
  '/v1/audit/public-key',
  '/v1/audit/public-keys',
  '/auth/login',
  '/auth/logout',
]);

type Json = Record<string, any>;
interface Operation {
  method: string;
  path: string;
  op: Json;
}

const operations = (doc: Json): Operation[] =>
  Object.entries(doc.paths as Json).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method] })),
  );

/** Follows `$ref`s into components. */
const resolve = (doc: Json, schema: Json | undefined): Json | undefined =>
  schema?.$ref ? resolve(doc, doc.components.schemas[schema.$ref.split('/').pop()]) : schema;

describe('the OpenAPI document', () => {
  let ll: Ledgerline;
  let served: Json;
  const committed = JSON.parse(readFileSync(join(ROOT, 'docs/openapi.json'), 'utf8')) as Json;

  beforeAll(async () => {
    ll = await Ledgerline.start({ workers: 0 });
    const res = await ll.request('GET', '/docs/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    served = res.body;
  });
  afterAll(() => ll.stop());

  it('is what the server serves now (else regenerate and commit it)', () => {
    try {
      expect(served).toEqual(committed);
    } catch (err) {
      throw new Error(`docs/openapi.json is stale; run: ${REGENERATE}\n${(err as Error).message}`, {
        cause: err,
      });
    }
  });

  it('is OpenAPI 3.1 with both security schemes', () => {
    expect(served.openapi).toBe('3.1.0');
    expect(served.components.securitySchemes).toEqual({
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      apiKey: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-API-Key' }),
    });
  });

  it('describes every route: body, a 2xx with a schema, problem errors, security', () => {
    const ops = operations(served);
    expect(ops.length).toBeGreaterThanOrEqual(30);
    const gaps: string[] = [];
    for (const { method, path, op } of ops) {
      const name = `${method.toUpperCase()} ${path}`;
      const answers = Object.entries(op.responses as Json);
      const success = answers.filter(([s]) => /^2\d\d$/.test(s));
      if (!success.length) gaps.push(`${name}: no 2xx answer`);
      for (const [status, answer] of success) {
        if (status === '204') continue;
        const schemas = Object.values(answer.content ?? {}).map((c: any) => c.schema);
        if (!schemas.length) gaps.push(`${name}: ${status} has no schema`);
      }
      const problems = answers.filter(([s]) => /^[45]\d\d$/.test(s));
      if (!problems.some(([s]) => s.startsWith('4'))) gaps.push(`${name}: no 4xx answer`);
      for (const [status, answer] of problems) {
        const schema = answer.content?.['application/problem+json']?.schema;
        const resolved = resolve(served, schema);
        if (!resolved?.required?.includes('code')) gaps.push(`${name}: ${status} not a problem`);
        if (status === '400' && !resolved?.required?.includes('errors'))
          gaps.push(`${name}: 400 does not list errors[]`);
      }
      const takesBody = ['post', 'put', 'patch'].includes(method);
      const bodyless = /\/(rotate-secret|enable|test|retry|preference-links|erase|logout)$/.test(
        path,
      );
      if (takesBody && !bodyless && !op.requestBody?.content?.['application/json']?.schema)
        gaps.push(`${name}: no request body`);
      if (op.requestBody && !takesBody) gaps.push(`${name}: unexpected request body`);
      if (PUBLIC.has(path)) {
        if (op.security?.length) gaps.push(`${name}: public route asks for a key`);
      } else {
        const schemes = (op.security ?? []).flatMap((s: Json) => Object.keys(s));
        if (!schemes.includes('bearer') || !schemes.includes('apiKey'))
          gaps.push(`${name}: security is ${JSON.stringify(op.security)}`);
        if (!problems.some(([s]) => s === '401')) gaps.push(`${name}: no 401`);
      }
      for (const p of (op.parameters ?? []) as Json[]) {
        if (p.in === 'path' && !p.required) gaps.push(`${name}: path ${p.name} not required`);
      }
    }
    expect(gaps).toEqual([]);
  });

  it('states the list limits and the body rules of SPEC 2 and 3', () => {
    const list = served.paths['/v1/webhooks/endpoints'].get.parameters as Json[];
    expect(list.find((p) => p.name === 'limit')).toMatchObject({
      in: 'query',
      required: false,
      schema: { minimum: 1, maximum: 500, default: 50 },
    });
    const event = served.components.schemas.PublishEventDto;
    expect(event.required).toEqual(expect.arrayContaining(['type', 'actor', 'data']));
    expect(event.properties.type).toMatchObject({ maxLength: 128, pattern: expect.any(String) });
    const batch = served.components.schemas.PublishEventBatchDto.properties.events;
    expect(batch).toMatchObject({ minItems: 1, maxItems: 500 });
    const idempotency = served.paths['/v1/events'].post.parameters.find(
      (p: Json) => p.name === 'Idempotency-Key',
    );
    expect(idempotency).toMatchObject({ in: 'header', schema: { maxLength: 255 } });
  });

  it('lists every event type Ledgerline emits, as webhooks with a data schema', () => {
    const types = Object.keys(served.webhooks);
    for (const t of [
      'tenant.created',
      'api_key.created',
      'api_key.revoked',
      'webhook.endpoint.created',
      'webhook.endpoint.disabled',
      'webhook.endpoint.test',
      'audit.checkpoint',
      'ai_action.approved',
      'ai_action.paused',
    ]) {
      expect(types).toContain(t);
    }
    for (const t of types) {
      const body = served.webhooks[t].post.requestBody.content['application/json'].schema;
      expect(body.properties.type.const).toBe(t);
      const data = body.properties.data.allOf[1].properties.data;
      expect(resolve(served, data)).toMatchObject({ type: 'object' });
    }
    expect(served['x-event-types'].map((e: Json) => e.type)).toEqual(types);
  });

  it('has the README table of the same event types', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.split('## Event types Ledgerline emits')[1]?.split('\n## ')[0] ?? '';
    const listed = [...section.matchAll(/^\| `([a-z_.]+)` \|/gm)].map((m) => m[1]);
    expect(listed).toEqual(Object.keys(served.webhooks));
  });

  it('has a current generated client (clients/typescript/schema.d.ts)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'openapi-ts-'));
    try {
      const out = join(dir, 'schema.d.ts');
      execFileSync(
        join(ROOT, 'node_modules/.bin/openapi-typescript'),
        [join(ROOT, 'docs/openapi.json'), '--output', out],
        { cwd: ROOT, stdio: 'ignore' },
      );
      const fresh = readFileSync(out, 'utf8');
      const committedTypes = readFileSync(join(ROOT, 'clients/typescript/schema.d.ts'), 'utf8');
      if (fresh !== committedTypes) {
        throw new Error(`clients/typescript/schema.d.ts is stale; run: ${REGENERATE}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
