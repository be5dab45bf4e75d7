/**
 * RFC 8785 (JCS) canonical JSON, written for speed: the same output as the `canonicalize`
 * package for every value it accepts (keys sorted by UTF-16 code units, primitives as
 * `JSON.stringify` writes them, `undefined` members skipped and array holes as `null`, `toJSON`
 * honoured, NaN and Infinity refused), with loops instead of reduce and template strings, and an
 * audit entry's eleven fixed keys written in their canonical order without sorting them.
 *
 * The functions are kept as JavaScript source so that the verifier's worker threads (which run
 * plain JavaScript, see chain-range-worker.ts) use exactly the code the appender hashes with.
 */
export const CANONICAL_JSON_SOURCE = String.raw`
function jcs(v) {
  if (v === null) return 'null';
  const t = typeof v;
  if (t === 'string' || t === 'boolean') return JSON.stringify(v);
  if (t === 'number') {
    if (v !== v) throw new Error('NaN is not allowed');
    if (!isFinite(v)) throw new Error('Infinity is not allowed');
    return JSON.stringify(v);
  }
  if (t !== 'object') return JSON.stringify(v);
  if (v.toJSON instanceof Function) return jcs(v.toJSON());
  if (Array.isArray(v)) {
    let s = '[';
    for (let i = 0; i < v.length; i++) {
      if (i > 0) s += ',';
      const x = v[i];
      s += x === undefined || typeof x === 'symbol' ? 'null' : jcs(x);
    }
    return s + ']';
  }
  const keys = Object.keys(v).sort();
  let s = '{';
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const x = v[k];
    if (x === undefined || typeof x === 'symbol') continue;
    if (!first) s += ',';
    first = false;
    s += JSON.stringify(k) + ':' + jcs(x);
  }
  return s + '}';
}
function entryJcs(e) {
  if (e.actingAsTenantId === undefined || e.actor === undefined || e.chain === undefined ||
      e.data === undefined || e.eventId === undefined || e.occurredAt === undefined ||
      e.recordedAt === undefined || e.seq === undefined || e.subject === undefined ||
      e.tenantId === undefined || e.type === undefined) {
    return jcs({
      actingAsTenantId: e.actingAsTenantId, actor: e.actor, chain: e.chain, data: e.data,
      eventId: e.eventId, occurredAt: e.occurredAt, recordedAt: e.recordedAt, seq: e.seq,
      subject: e.subject, tenantId: e.tenantId, type: e.type,
    });
  }
  return '{"actingAsTenantId":' + jcs(e.actingAsTenantId) +
    ',"actor":' + jcs(e.actor) +
    ',"chain":' + jcs(e.chain) +
    ',"data":' + jcs(e.data) +
    ',"eventId":' + jcs(e.eventId) +
    ',"occurredAt":' + jcs(e.occurredAt) +
    ',"recordedAt":' + jcs(e.recordedAt) +
    ',"seq":' + jcs(e.seq) +
    ',"subject":' + jcs(e.subject) +
    ',"tenantId":' + jcs(e.tenantId) +
    ',"type":' + jcs(e.type) + '}';
}
`;

interface CanonicalJson {
  /** JCS of any JSON value. */
  jcs(value: unknown): string;
  /** JCS of an audit entry's hashed body: the eleven fields an entry is hashed over. */
  entryJcs(entry: object): string;
}

const compiled = new Function(
  `${CANONICAL_JSON_SOURCE}; return { jcs, entryJcs };`,
)() as CanonicalJson;

export const canonicalJson = compiled.jcs;
export const canonicalEntry = compiled.entryJcs;
