import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { EVENT_CATALOGUE, EventTypeDoc } from './openapi-events';
import { API_KEY_SCHEME, BEARER_SCHEME } from './openapi';

type Json = Record<string, unknown>;

const DESCRIPTION = [
  'Events, a hash-chained audit record, signed webhooks and an AI-action approval queue.',
  '',
  'Authenticate with `Authorization: Bearer <key>` or `X-API-Key: <key>`. Errors are',
  '`application/problem+json` `{type, title, status, detail, code}`; a 400 also lists',
  '`errors: [{field, message}]`. Lists take `?limit=` (1–500, default 50) and `?cursor=` and',
  'answer `{data, nextCursor}`. `webhooks` lists every event type Ledgerline emits itself, as',
  'delivered to your endpoints (Standard Webhooks signatures).',
].join('\n');

/**
 * OpenAPI 3.1 spells "nullable" as a type union: Nest's generator writes the 3.0 keyword, which
 * this rewrites in place (`{type: T, nullable}` → `{type: [T, 'null']}`; a nullable `$ref` or
 * `allOf` → `oneOf [it, {type: 'null'}]`).
 */
function toOpenApi31(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toOpenApi31);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) out[k] = toOpenApi31(v);
  if (out.nullable !== true) return out;
  delete out.nullable;
  if (typeof out.type === 'string') {
    out.type = [out.type, 'null'];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
    return out;
  }
  const { description, ...rest } = out;
  return { ...(description ? { description } : {}), oneOf: [rest, { type: 'null' }] };
}

const schemaName = (type: string) =>
  `Event_${type.replace(/(^|[._])([a-z])/g, (_, _sep, c: string) => c.toUpperCase())}`;

/** The delivered body (SPEC 5): `{type, timestamp, data: {id, type, …, data}}`. */
function webhookOf(e: EventTypeDoc): Json {
  return {
    post: {
      operationId: `event_${e.type.replace(/\./g, '_')}`,
      summary: e.summary,
      description:
        `Audit chain: ${e.chain ?? 'none'}. ` +
        (e.delivered ? 'Delivered to endpoints that subscribe to it.' : 'Never delivered.'),
      tags: ['event types'],
      'x-audit-chain': e.chain,
      'x-delivered': e.delivered,
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['type', 'timestamp', 'data'],
              properties: {
                type: { type: 'string', const: e.type },
                timestamp: { type: 'string', format: 'date-time' },
                data: {
                  allOf: [
                    { $ref: '#/components/schemas/DeliveredEvent' },
                    {
                      type: 'object',
                      properties: {
                        type: { type: 'string', const: e.type },
                        data: { $ref: `#/components/schemas/${schemaName(e.type)}` },
                      },
                    },
                  ],
                },
              },
            },
          },
        },
      },
      responses: { '200': { description: 'Any 2xx within the timeout acknowledges it' } },
    },
  };
}

const DELIVERED_EVENT = {
  type: 'object',
  required: ['id', 'type', 'subject', 'actor', 'actingAsTenantId', 'occurredAt', 'data'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    type: { type: 'string' },
    subject: { type: ['string', 'null'] },
    actor: {
      type: 'object',
      required: ['type', 'id'],
      properties: {
        type: { type: 'string', enum: ['user', 'service', 'ai_agent', 'system'] },
        id: { type: 'string' },
      },
    },
    actingAsTenantId: { type: ['string', 'null'] },
    occurredAt: { type: 'string', format: 'date-time' },
    data: { type: 'object', additionalProperties: true },
  },
};

/** The whole document: routes from the controllers' decorators, plus the event catalogue. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('Ledgerline')
    .setVersion('1')
    .setDescription(DESCRIPTION)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key' }, BEARER_SCHEME)
    .addApiKey(
      { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key' },
      API_KEY_SCHEME,
    )
    .build();
  const raw = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (controller, method) =>
      `${controller.replace(/Controller$/, '')}_${method}`,
  });
  const doc = toOpenApi31(raw) as Json & { components: { schemas: Json } };
  doc.components.schemas.DeliveredEvent = DELIVERED_EVENT;
  for (const e of EVENT_CATALOGUE) {
    doc.components.schemas[schemaName(e.type)] = toOpenApi31({
      ...e.data,
      description: e.summary,
    });
  }
  doc.webhooks = Object.fromEntries(EVENT_CATALOGUE.map((e) => [e.type, webhookOf(e)]));
  doc['x-event-types'] = EVENT_CATALOGUE.map((e) => ({
    type: e.type,
    summary: e.summary,
    chain: e.chain,
    delivered: e.delivered,
    schema: `#/components/schemas/${schemaName(e.type)}`,
  }));
  return doc as unknown as OpenAPIObject;
}
