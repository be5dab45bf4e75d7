import { createHash } from 'node:crypto';
import { canonicalEntry } from './canonical-json';

export const CHAINS = ['main', 'ai'] as const;
export type ChainName = (typeof CHAINS)[number];
export const GENESIS_HASH = '0'.repeat(64);

/** An audit entry exactly as the API and the export show it (SPEC section 4). */
export interface AuditEntry {
  seq: number;
  chain: ChainName;
  tenantId: string;
  eventId: string;
  type: string;
  subject: string | null;
  actor: { type: string; id: string };
  actingAsTenantId: string | null;
  data: Record<string, unknown>;
  occurredAt: string;
  recordedAt: string;
  prevHash: string;
  hash: string;
}

export type UnhashedEntry = Omit<AuditEntry, 'hash' | 'prevHash'>;

/** hash = SHA-256( 32 raw bytes of prevHash || UTF-8( JCS(entry without hash and prevHash) ) ) */
export function hashEntry(prevHash: string, entry: UnhashedEntry): string {
  // canonicalEntry reads exactly the eleven hashed fields, in JCS order (no key sort per entry).
  return createHash('sha256')
    .update(Buffer.from(prevHash, 'hex'))
    .update(canonicalEntry(entry), 'utf8')
    .digest('hex');
}

export interface AuditEntryRow {
  tenant_id: string;
  chain: ChainName;
  seq: number;
  event_id: string;
  type: string;
  subject: string | null;
  actor: { type: string; id: string };
  acting_as_tenant_id: string | null;
  data: Record<string, unknown>;
  occurred_at: Date;
  recorded_at: Date;
  prev_hash: string;
  hash: string;
}

export function fromRow(r: AuditEntryRow): AuditEntry {
  return {
    seq: r.seq,
    chain: r.chain,
    tenantId: r.tenant_id,
    eventId: r.event_id,
    type: r.type,
    subject: r.subject,
    actor: r.actor,
    actingAsTenantId: r.acting_as_tenant_id,
    data: r.data,
    occurredAt: r.occurred_at.toISOString(),
    recordedAt: r.recorded_at.toISOString(),
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}
