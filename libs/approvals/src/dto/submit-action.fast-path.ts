import { INITIATORS, RISKS } from '../ai-action.types';
import { EVENT_TYPE_PATTERN } from '@app/events';

// Submissions are the approval queue's hot route: a plainly valid one skips class-transformer and
// class-validator (which walk and copy the whole `input`, up to 64 KiB; see registerFastPath).
// The checks are stricter than SubmitActionDto, never looser (string lengths count UTF-16 units,
// a null optional field takes the full path): submit-action.fast-path.spec.ts holds them to that.

const SUBMIT_KEYS = new Set([
  'type',
  'initiator',
  'agent',
  'input',
  'requestedBy',
  'rationale',
  'proposedRisk',
  'expiresInSeconds',
]);
const AGENT_KEYS = new Set(['id', 'model']);
const MAX_EXPIRY = 90 * 86400;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hasOnlyKeys(v: Record<string, unknown>, keys: Set<string>): boolean {
  for (const k of Object.keys(v)) if (!keys.has(k)) return false;
  return true;
}

function isString(v: unknown, min: number, max: number): v is string {
  return typeof v === 'string' && v.length >= min && v.length <= max;
}

const isAgent = (v: unknown) =>
  isPlainObject(v) &&
  hasOnlyKeys(v, AGENT_KEYS) &&
  isString(v.id, 1, 128) &&
  (v.model === undefined || isString(v.model, 1, 128));

export function isPlainValidSubmission(v: unknown): boolean {
  if (!isPlainObject(v) || !hasOnlyKeys(v, SUBMIT_KEYS)) return false;
  const { type, initiator, requestedBy, rationale, proposedRisk, expiresInSeconds } = v;
  return (
    isString(type, 1, 128) &&
    EVENT_TYPE_PATTERN.test(type) &&
    (INITIATORS as readonly unknown[]).includes(initiator) &&
    isAgent(v.agent) &&
    isPlainObject(v.input) &&
    (requestedBy === undefined ? initiator !== 'user' : isString(requestedBy, 1, 128)) &&
    (rationale === undefined || isString(rationale, 0, 4000)) &&
    (proposedRisk === undefined || (RISKS as readonly unknown[]).includes(proposedRisk)) &&
    (expiresInSeconds === undefined ||
      (Number.isInteger(expiresInSeconds) &&
        (expiresInSeconds as number) >= 1 &&
        (expiresInSeconds as number) <= MAX_EXPIRY))
  );
}
