import { Injectable } from '@nestjs/common';
import { Database, Tx } from '@app/platform';
import { ErasureParticipant } from './erasure-registry';

const ERASED = '[erased]';

/** What an erasure looks for, each compared in its own normal form. */
export interface ErasureTargets {
  /** Email addresses, lower-cased: a whole value, or inside a string value. */
  emails: string[];
  /** Phone numbers as digits only (a leading `+` dropped): whole values only. */
  phones: string[];
  /** Other identifiers (postal address, external id): whole values only, spaces collapsed. */
  exact: string[];
}

const digits = (s: string) => s.replace(/[\s().\-/]/g, '').replace(/^\+/, '');
const isPhoneLike = (s: string) => /^\+?[\d\s().\-/]{6,40}$/.test(s) && /\d{6}/.test(digits(s));
const collapse = (s: string) => s.trim().replace(/\s+/g, ' ');
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function erasureTargets(
  emails: (string | null)[],
  phones: (string | null)[],
  exact: (string | null)[],
): ErasureTargets {
  const some = (xs: (string | null)[]) => xs.filter((x): x is string => Boolean(x && x.trim()));
  return {
    emails: [...new Set(some(emails).map((e) => e.trim().toLowerCase()))],
    phones: [
      ...new Set(
        some(phones)
          .map(digits)
          .filter((d) => /^\d{4,}$/.test(d)),
      ),
    ],
    exact: [...new Set(some(exact).map(collapse))],
  };
}

/**
 * Replaces, in a JSON value, every string that is one of the targets as a whole (emails
 * case-insensitively, phones by their digits, others with spaces collapsed) and every email
 * address inside a longer string. Numbers, booleans, keys and other text are never touched,
 * so the result is always valid JSON. Returns the same object when nothing matched.
 */
export function eraseJson(value: unknown, t: ErasureTargets): unknown {
  const emailPattern = t.emails.length
    ? new RegExp(t.emails.map(escapeRegExp).join('|'), 'gi')
    : null;
  const str = (s: string): string => {
    if (matchesWhole(s, t)) return ERASED;
    if (emailPattern && s.includes('@')) {
      const replaced = s.replace(emailPattern, ERASED);
      if (replaced !== s) return replaced;
    }
    return s;
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return str(v);
    if (Array.isArray(v)) {
      const out = v.map(walk);
      return out.some((x, i) => x !== v[i]) ? out : v;
    }
    if (v && typeof v === 'object') {
      let changed = false;
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        const y = walk(x);
        if (y !== x) changed = true;
        out[k] = y;
      }
      return changed ? out : v;
    }
    return v;
  };
  return walk(value);
}

function matchesWhole(s: string, t: ErasureTargets): boolean {
  const trimmed = s.trim();
  if (t.emails.includes(trimmed.toLowerCase())) return true;
  if (t.phones.length && isPhoneLike(trimmed) && t.phones.includes(digits(trimmed))) return true;
  return t.exact.includes(collapse(s));
}

/** A subject: erased when it, or its last `/` segment, is a target; an email anywhere. */
export function eraseSubject(subject: string, t: ErasureTargets): string {
  if (matchesWhole(subject, t)) return ERASED;
  const slash = subject.lastIndexOf('/');
  if (slash >= 0 && matchesWhole(subject.slice(slash + 1), t)) {
    return subject.slice(0, slash + 1) + ERASED;
  }
  const erased = eraseJson(subject, t);
  return typeof erased === 'string' ? erased : subject;
}

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
   * Finds the tenant's events whose text may name the contact (a cheap, generous filter:
   * an email or other identifier as text, a phone's digits), then rewrites each in
   * TypeScript with {@link eraseJson}: only whole string values (and email addresses inside
   * strings) are replaced, never text inside the JSON, so no other value can be damaged.
   */
  async erase(tx: Tx, tenantId: string, _contactId: string, targets: ErasureTargets) {
    const needles = [...targets.emails, ...targets.exact].map((s) => s.toLowerCase());
    if (!needles.length && !targets.phones.length) return 0;
    const rows: { id: string; data: unknown; subject: string | null }[] = await tx.query(
      `SELECT id, data, subject FROM events
       WHERE tenant_id = $1
         AND (EXISTS (SELECT 1 FROM unnest($2::text[]) n
                      WHERE strpos(lower(data::text), n) > 0 OR strpos(lower(coalesce(subject, '')), n) > 0)
              OR (cardinality($3::text[]) > 0 AND EXISTS (
                    SELECT 1 FROM unnest($3::text[]) p
                    WHERE strpos(regexp_replace(data::text || ' ' || coalesce(subject, ''), '[^0-9]', '', 'g'),
                                 p) > 0)))
       FOR UPDATE`,
      [tenantId, needles, targets.phones],
    );
    let changed = 0;
    for (const row of rows) {
      const data = eraseJson(row.data, targets);
      const subject = row.subject === null ? null : eraseSubject(row.subject, targets);
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
