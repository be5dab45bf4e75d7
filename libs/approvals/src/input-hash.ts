import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';
import { Risk, UnsignedReceipt } from './ai-action.types';

/** SPEC 6: lowercase hex SHA-256 of JCS({type, input, risk, policyVersion}). */
export function inputHashOf(
  type: string,
  input: Record<string, unknown>,
  risk: Risk,
  policyVersion: number,
): string {
  const jcs = canonicalize({ type, input, risk, policyVersion })!;
  return createHash('sha256').update(jcs, 'utf8').digest('hex');
}

/** The bytes a receipt's signature covers: JCS of the receipt without `signature`. */
export function receiptPayload(receipt: UnsignedReceipt & { keyId: string }): Buffer {
  return Buffer.from(canonicalize(receipt)!, 'utf8');
}
