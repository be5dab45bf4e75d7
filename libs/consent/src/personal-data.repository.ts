import { Injectable } from '@nestjs/common';
import { Database, Tx } from '@app/platform';
import { ErasureParticipant } from './erasure-registry';

/** JSON-escaped, as the identifier appears inside a jsonb document's text. */
const jsonEscaped = (s: string) => JSON.stringify(s).slice(1, -1);

/**
 * Raw events (the event store) that hold personal data: erasure rewrites the ones that name a
 * contact, retention deletes old ones. The audit chains hold only redacted copies and never
 * change. (The event store belongs to the events capability; these two statements are the only
 * writes to it from here, kept in this one repository.)
 */
@Injectable()
export class RawEventEraser implements ErasureParticipant {
  readonly name = 'events';
  readonly retention = 'events' as const;

  constructor(private readonly db: Database) {}

  /**
   * An address with an `@` is unique enough to be replaced wherever it appears (inside a
   * sentence too); a phone number, postal address or external id only where it is a whole
   * JSON string value, or the whole subject or its last `/` segment, so that a short id never
   * rewrites unrelated text.
   */
  async erase(tx: Tx, tenantId: string, _contactId: string, identifiers: string[]) {
    let changed = 0;
    for (const id of identifiers) {
      const anywhere = id.includes('@') && id.length >= 6;
      const needle = anywhere ? jsonEscaped(id) : JSON.stringify(id);
      const replacement = anywhere ? '[erased]' : '"[erased]"';
      const rows = await tx.query(
        `UPDATE events SET
           data = CASE WHEN strpos(data::text, $2) > 0
                       THEN replace(data::text, $2, $3)::jsonb ELSE data END,
           subject = CASE
             WHEN $5 AND strpos(subject, $4) > 0 THEN replace(subject, $4, '[erased]')
             WHEN subject = $4 OR subject LIKE '%/' || $4 THEN
               left(subject, length(subject) - length($4)) || '[erased]'
             ELSE subject END
         WHERE tenant_id = $1
           AND (strpos(data::text, $2) > 0
                OR ($5 AND strpos(subject, $4) > 0) OR subject = $4 OR subject LIKE '%/' || $4)
         RETURNING id`,
        [tenantId, needle, replacement, id, anywhere],
      );
      changed += rows.length;
    }
    return changed;
  }

  /**
   * Deletes a tenant's raw events received before `before` that every consumer has processed
   * and no webhook delivery still waits for. Their audit entries stay.
   */
  async purgeBefore(tenantId: string, before: Date): Promise<number> {
    const rows = await this.db.query(
      `DELETE FROM events e
       WHERE e.tenant_id = $1 AND e.received_at < $2
         AND e.position <= (SELECT coalesce(min(position), 0) FROM stream_cursors c
                            WHERE c.tenant_id = $1)
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                         WHERE d.tenant_id = e.tenant_id AND d.event_id = e.id
                           AND d.status IN ('pending', 'waiting'))
       RETURNING e.id`,
      [tenantId, before],
    );
    return rows.length;
  }
}
