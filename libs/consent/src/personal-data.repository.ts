import { Injectable } from '@nestjs/common';
import { EventEraser } from '@app/events';
import { Tx } from '@app/platform';
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
 * change. The events capability changes its table; this participant says what is erased.
 */
@Injectable()
export class RawEventEraser implements ErasureParticipant {
  readonly name = 'events';
  readonly retention = 'events' as const;

  constructor(private readonly events: EventEraser) {}

  /**
   * Rewrites the tenant's events that may name the contact with {@link eraseJson}: only whole
   * string values (and email addresses inside strings) are replaced, never text inside the
   * JSON, so no other value can be damaged.
   */
  erase(tx: Tx, tenantId: string, _contactId: string, targets: ErasureTargets) {
    const mentions = {
      text: [...targets.emails, ...targets.exact].map((s) => s.toLowerCase()),
      digits: targets.phones,
    };
    return this.events.rewriteMentioning(tx, tenantId, mentions, (event) => ({
      data: eraseJson(event.data, targets),
      subject: event.subject === null ? null : eraseSubject(event.subject, targets),
    }));
  }

  /** Deletes raw events past retention that nothing waits for any more (audit entries stay). */
  purgeBefore(tenantId: string, before: Date): Promise<number> {
    return this.events.purgeProcessedBefore(tenantId, before);
  }
}
