import { createLedgerlineClient, LedgerlineClient } from '../../clients/typescript';
import { Ledgerline } from './ledgerline';

export type { LedgerlineClient, Schemas } from '../../clients/typescript';

/**
 * The generated, typed client (clients/typescript) for one API key of a test Ledgerline: the
 * suites that use it call the routes exactly as the committed document describes them.
 */
export function apiClient(ll: Ledgerline, key: string): LedgerlineClient {
  return createLedgerlineClient(ll.baseUrl, key);
}

/** The answer's data, failing the test with the problem when the call did not succeed. */
export function ok<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined) {
    throw new Error(`HTTP ${result.response.status}: ${JSON.stringify(result.error)}`);
  }
  return result.data;
}
