#!/usr/bin/env node
/*
 * Writes the API's OpenAPI document from the built app (run `npm run build` first), without a
 * database or Redis: Nest's preview mode builds the module graph without instantiating providers.
 *
 *   node scripts/openapi.js            writes docs/openapi.json and clients/typescript/schema.d.ts
 *   node scripts/openapi.js --stdout   prints the document
 *
 * The e2e suite test/openapi.e2e-spec.ts fails when either committed file differs from this.
 */
'use strict';
require('reflect-metadata');
const { execFileSync } = require('node:child_process');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
const DIST = join(ROOT, 'dist/apps/api');
const DOC = join(ROOT, 'docs/openapi.json');
const TYPES = join(ROOT, 'clients/typescript/schema.d.ts');

async function generate() {
  const { NestFactory } = require('@nestjs/core');
  const { FastifyAdapter } = require('@nestjs/platform-fastify');
  const { ApiModule } = require(join(DIST, 'apps/api/src/api.module.js'));
  const { buildOpenApiDocument } = require(join(DIST, 'libs/platform/src/index.js'));
  const app = await NestFactory.create(ApiModule, new FastifyAdapter(), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  try {
    return `${JSON.stringify(buildOpenApiDocument(app), null, 2)}\n`;
  } finally {
    await app.close().catch(() => undefined);
  }
}

/** clients/typescript/schema.d.ts from docs/openapi.json (openapi-typescript). */
function generateTypes() {
  const bin = join(ROOT, 'node_modules/.bin/openapi-typescript');
  execFileSync(bin, [DOC, '--output', TYPES], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

generate()
  .then((doc) => {
    if (process.argv.includes('--stdout')) {
      process.stdout.write(doc);
      return;
    }
    writeFileSync(DOC, doc);
    generateTypes();
    process.stdout.write(`wrote ${DOC} and ${TYPES}\n`);
  })
  .catch((err) => {
    process.stderr.write(`${err.stack || err}\n`);
    process.exit(1);
  });
