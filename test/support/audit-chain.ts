import { KeyObject } from 'node:crypto';

/** What test/tools/verify-chain.js says of an export. */
export interface ChainCheck {
  ok: boolean;
  entries: number;
  head?: { seq: number; hash: string };
  firstBreak?: { seq: number; reason: string };
}

/**
 * The standalone verifier an auditor runs (test/tools/verify-chain.js), written independently of
 * the service's code: the e2e suites check the service against it.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const chainTool = require('../tools/verify-chain.js') as {
  /** `keysFile`: one public key (PEM) or the list of every key that signed. */
  verify(
    exportFile: string,
    keysFile?: string,
    checkpointsFile?: string,
    /** Threads, and from which size (bytes) and in how many ranges the export is cut. */
    options?: { threads?: number; parallelFromBytes?: number; ranges?: number },
  ): Promise<ChainCheck>;
  /** The SPEC section 4 hash of an entry. */
  entryHash(entry: object): string;
  /** Lowercase hex SHA-256 of the key's SPKI DER. */
  keyIdOf(key: KeyObject): string;
};

export const { entryHash } = chainTool;

/** The prevHash of seq 1. */
export const ZERO_HASH = '0'.repeat(64);
export const HEX64 = /^[0-9a-f]{64}$/;
/** Every field of an entry, as the entries API and the export show it. */
export const ENTRY_KEYS = [
  'actingAsTenantId',
  'actor',
  'chain',
  'data',
  'eventId',
  'hash',
  'occurredAt',
  'prevHash',
  'recordedAt',
  'seq',
  'subject',
  'tenantId',
  'type',
];
