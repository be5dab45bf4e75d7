/**
 * A typed Ledgerline client: openapi-fetch over the types openapi-typescript generates from
 * docs/openapi.json (`npm run openapi` rewrites both; test/openapi.e2e-spec.ts fails when either
 * is stale). Every path, parameter, body and answer is checked by the compiler.
 *
 *   const ll = createLedgerlineClient('https://ledgerline.internal', process.env.LEDGERLINE_KEY);
 *   const { data, error } = await ll.POST('/v1/events', { body: { type: 'invoice.paid', … } });
 */
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, paths, webhooks } from './schema';

export type { components, paths, webhooks };
export type Schemas = components['schemas'];
export type LedgerlineClient = Client<paths>;

export function createLedgerlineClient(
  baseUrl: string,
  apiKey: string,
  options: Omit<ClientOptions, 'baseUrl'> = {},
): LedgerlineClient {
  return createClient<paths>({
    ...options,
    baseUrl,
    headers: { ...(options.headers as Record<string, string>), authorization: `Bearer ${apiKey}` },
  });
}
