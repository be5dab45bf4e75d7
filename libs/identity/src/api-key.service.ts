import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { AuthContext, Database, DomainError, IdGenerator, Scope, Tx } from '@app/platform';
import { Actor, EventStore } from '@app/events';
import { constantTimeEqual } from '@app/security';
import { generateApiKey, prefixOf } from './api-key-format';
import { ApiKeyRepository } from './api-key.repository';

export interface CreatedApiKey {
  id: string;
  key: string;
  scopes: Scope[];
}

interface CachedKey {
  entry: Promise<{ auth: AuthContext | null; hash: Buffer | null }>;
  expires: number;
}

// Verified keys are cached briefly: a revocation reaches other replicas within this time.
const CACHE_MS = 5000;
/** The actor recorded for changes made with an API key. */
export const actorOf = (auth: AuthContext): Actor =>
  auth.userId
    ? { type: 'user', id: `user:${auth.userId}` }
    : { type: 'service', id: `api_key:${auth.keyId}` };

const hashKey = (key: string) => createHash('sha256').update(key).digest();

@Injectable()
export class ApiKeyService {
  private readonly cache = new Map<string, CachedKey>();

  constructor(
    private readonly db: Database,
    private readonly repo: ApiKeyRepository,
    private readonly store: EventStore,
    private readonly ids: IdGenerator,
  ) {}

  /**
   * Returns who the key belongs to, or null for an unknown, malformed or revoked key.
   * `beforeLookup` runs (and may throw) only when the database must be asked; concurrent
   * requests with one uncached prefix share one lookup.
   */
  async authenticate(
    key: string,
    beforeLookup: () => Promise<void> = async () => undefined,
  ): Promise<AuthContext | null> {
    const prefix = prefixOf(key);
    if (!prefix) return null;
    let cached = this.cache.get(prefix);
    if (!cached || cached.expires < Date.now()) {
      await beforeLookup();
      cached = this.cache.get(prefix);
      if (!cached || cached.expires < Date.now()) cached = this.lookup(prefix);
    }
    const { auth, hash } = await cached.entry;
    if (!auth || !hash) return null;
    return constantTimeEqual(hashKey(key), hash) ? auth : null;
  }

  private lookup(prefix: string): CachedKey {
    const entry = this.repo.findByPrefix(prefix).then((stored) => ({
      auth:
        stored && !stored.revokedAt
          ? { tenantId: stored.tenantId, keyId: stored.id, scopes: new Set(stored.scopes) }
          : null,
      hash: stored ? stored.keyHash : null,
    }));
    const cached: CachedKey = { entry, expires: Date.now() + CACHE_MS };
    if (this.cache.size > 10000) this.cache.clear();
    this.cache.set(prefix, cached);
    // A failed lookup is not remembered: the next request asks again.
    entry.catch(() => {
      if (this.cache.get(prefix) === cached) this.cache.delete(prefix);
    });
    return cached;
  }

  async create(auth: AuthContext, name: string, scopes: Scope[]): Promise<CreatedApiKey> {
    const created = await this.db.transaction((tx) =>
      this.createIn(tx, auth.tenantId, name, scopes, actorOf(auth)),
    );
    return created;
  }

  /** An operator's key (CLI, e.g. after losing the admin key): recorded as made by the system. */
  createByOperator(tenantId: string, name: string, scopes: Scope[]): Promise<CreatedApiKey> {
    return this.db.transaction((tx) =>
      this.createIn(tx, tenantId, name, scopes, { type: 'system', id: 'cli' }),
    );
  }

  async createIn(
    tx: Tx,
    tenantId: string,
    name: string,
    scopes: Scope[],
    actor: Actor,
  ): Promise<CreatedApiKey> {
    const { key, prefix } = generateApiKey();
    const id = this.ids.next();
    const unique = [...new Set(scopes)];
    await this.repo.insert(tx, {
      tenantId,
      id,
      name,
      prefix,
      keyHash: hashKey(key),
      scopes: unique,
    });
    await this.store.record(tx, {
      tenantId,
      type: 'api_key.created',
      subject: `api_key/${id}`,
      actor,
      data: { apiKeyId: id, name, scopes: unique },
    });
    return { id, key, scopes: unique };
  }

  async revoke(auth: AuthContext, id: string): Promise<void> {
    const revoked = await this.db.transaction(async (tx) => {
      const row = await this.repo.revoke(tx, auth.tenantId, id);
      if (!row) return null;
      await this.store.record(tx, {
        tenantId: auth.tenantId,
        type: 'api_key.revoked',
        subject: `api_key/${id}`,
        actor: actorOf(auth),
        data: { apiKeyId: id, name: row.name },
      });
      return row;
    });
    if (!revoked) throw DomainError.notFound('API key');
    this.cache.delete(revoked.prefix);
  }
}
