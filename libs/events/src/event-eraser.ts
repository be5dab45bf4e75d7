import { Injectable } from '@nestjs/common';
import { Database, Tx } from '@app/platform';

/** The parts of a stored event that may hold personal data. */
export interface ErasableEvent {
  data: unknown;
  subject: string | null;
}

/** What names a person in an event: lower-cased text, and phone numbers as digits only. */
export interface PersonMentions {
  text: string[];
  digits: string[];
}

/**
 * The only changes to stored events besides appending them: erasure rewrites the events that
 * name a person, retention deletes old ones. What is personal data, and what replaces it, is
 * the caller's rule (consent's); this class owns how the events table is changed.
 */
@Injectable()
export class EventEraser {
  constructor(private readonly db: Database) {}

  /**
   * Locks the tenant's events whose text may mention the person (a cheap, generous filter: the
   * text anywhere in data or subject, ignoring case; the digits anywhere among theirs), then
   * stores what `rewrite` makes of each. `rewrite` returns the very same values for an event it
   * leaves alone, which is then not written. Returns how many events changed.
   */
  async rewriteMentioning(
    tx: Tx,
    tenantId: string,
    mentions: PersonMentions,
    rewrite: (event: ErasableEvent) => ErasableEvent,
  ): Promise<number> {
    if (!mentions.text.length && !mentions.digits.length) return 0;
    const rows: ({ id: string } & ErasableEvent)[] = await tx.query(
      `SELECT id, data, subject FROM events
       WHERE tenant_id = $1
         AND (EXISTS (SELECT 1 FROM unnest($2::text[]) n
                      WHERE strpos(lower(data::text), n) > 0 OR strpos(lower(coalesce(subject, '')), n) > 0)
              OR (cardinality($3::text[]) > 0 AND EXISTS (
                    SELECT 1 FROM unnest($3::text[]) p
                    WHERE strpos(regexp_replace(data::text || ' ' || coalesce(subject, ''), '[^0-9]', '', 'g'),
                                 p) > 0)))
       FOR UPDATE`,
      [tenantId, mentions.text, mentions.digits],
    );
    let changed = 0;
    for (const row of rows) {
      const { data, subject } = rewrite(row);
      if (data === row.data && subject === row.subject) continue;
      await tx.query(
        `UPDATE events SET data = $3::jsonb, subject = $4 WHERE tenant_id = $1 AND id = $2`,
        [tenantId, row.id, JSON.stringify(data), subject],
      );
      changed++;
    }
    return changed;
  }

  /**
   * Deletes a tenant's events received before `before` that every consumer has processed and no
   * webhook delivery still waits for. Their audit entries stay.
   */
  async purgeProcessedBefore(tenantId: string, before: Date): Promise<number> {
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
