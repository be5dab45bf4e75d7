/** Endpoint subscriptions: an exact type, `prefix.*` (any type under the prefix), or `*`. */
export const EVENT_TYPE_PATTERN = /^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$/;

export function matchesEventType(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => {
    if (p === '*') return true;
    if (p.endsWith('.*')) return type.startsWith(p.slice(0, -1));
    return p === type;
  });
}
