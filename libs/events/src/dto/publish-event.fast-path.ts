import { isUUID } from 'class-validator';
import { isTimestamp } from '@app/platform';
import { ACTOR_TYPES, EVENT_TYPE_PATTERN } from '../event-types';

// The events routes are the hottest in Ledgerline: a plainly valid event skips class-transformer
// and class-validator (a sixth of the API's CPU under batch load; see registerFastPath). These checks are stricter than
// the DTOs (string lengths count UTF-16 units, null optional fields take the full path), never
// looser: publish-event.fast-path.spec.ts holds them to that.

const EVENT_KEYS = new Set(['type', 'subject', 'actor', 'actingAsTenantId', 'occurredAt', 'data']);
const ACTORS: readonly string[] = ACTOR_TYPES;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hasOnlyKeys(v: Record<string, unknown>, keys: Set<string>): boolean {
  for (const k of Object.keys(v)) if (!keys.has(k)) return false;
  return true;
}

function isShortString(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length <= max;
}

const ACTOR_KEYS = new Set(['type', 'id']);

function isPlainActor(v: unknown): boolean {
  return (
    isPlainObject(v) &&
    hasOnlyKeys(v, ACTOR_KEYS) &&
    typeof v.type === 'string' &&
    ACTORS.includes(v.type) &&
    isShortString(v.id, 128) &&
    v.id.length >= 1
  );
}

export function isPlainValidEvent(v: unknown): boolean {
  return (
    isPlainObject(v) &&
    hasOnlyKeys(v, EVENT_KEYS) &&
    isShortString(v.type, 128) &&
    EVENT_TYPE_PATTERN.test(v.type) &&
    (v.subject === undefined || isShortString(v.subject, 512)) &&
    isPlainActor(v.actor) &&
    (v.actingAsTenantId === undefined ||
      (typeof v.actingAsTenantId === 'string' && isUUID(v.actingAsTenantId))) &&
    (v.occurredAt === undefined || isTimestamp(v.occurredAt)) &&
    isPlainObject(v.data)
  );
}

const BATCH_KEYS = new Set(['events']);

export function isPlainValidBatch(v: unknown): boolean {
  return (
    isPlainObject(v) &&
    hasOnlyKeys(v, BATCH_KEYS) &&
    Array.isArray(v.events) &&
    v.events.length >= 1 &&
    v.events.length <= 500 &&
    v.events.every(isPlainValidEvent)
  );
}
