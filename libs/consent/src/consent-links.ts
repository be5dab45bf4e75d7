import { Injectable } from '@nestjs/common';
import { createHmac, randomBytes } from 'node:crypto';
import { LedgerlineConfig } from '@app/platform';
import { constantTimeEqual } from '@app/security';
import { KeyMaterial, ServiceKeyRepository } from '@app/identity';

const PURPOSE = 'consent_links';

/** What a link lets its holder do: see and change preferences, unsubscribe, confirm a grant. */
export type LinkKind = 'p' | 'u' | 'c';

export interface LinkClaims {
  kind: LinkKind;
  tenantId: string;
  contactId: string;
  /** The pending consent-log record a confirmation link confirms. */
  logId?: string;
  /** Seconds since the epoch. */
  expiresAt: number;
}

export const PREFERENCE_LINK_DAYS = 30;
/** RFC 8058 links must keep working for as long as mail may sit unread: at least 60 days. */
export const UNSUBSCRIBE_LINK_DAYS = 90;
export const CONFIRMATION_LINK_DAYS = 7;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Signed, expiring links for contacts (no login): `<claims b64url>.<HMAC-SHA256 b64url>`. The HMAC
 * key is the service's own, generated once and kept in service_keys sealed under the master key,
 * so every process checks what any other signed. Nothing is stored per link.
 */
@Injectable()
export class ConsentLinks {
  private key?: Promise<Buffer>;

  constructor(
    private readonly keys: KeyMaterial,
    private readonly serviceKeys: ServiceKeyRepository,
    private readonly config: LedgerlineConfig,
  ) {}

  baseUrl(fallback?: string): string {
    const base = this.config.PUBLIC_BASE_URL ?? fallback ?? `http://localhost:${this.config.PORT}`;
    return base.replace(/\/+$/, '');
  }

  async sign(claims: LinkClaims): Promise<string> {
    const body = [
      claims.kind,
      claims.tenantId,
      claims.contactId,
      claims.logId ?? '',
      claims.expiresAt,
    ].join('|');
    const payload = Buffer.from(body).toString('base64url');
    return `${payload}.${await this.mac(payload)}`;
  }

  /** The claims of a valid, unexpired link of that kind; null for anything else. */
  async verify(token: string, kinds: LinkKind[], nowMs: number): Promise<LinkClaims | null> {
    if (typeof token !== 'string' || token.length > 512) return null;
    const [payload, mac, extra] = token.split('.');
    if (!payload || !mac || extra !== undefined) return null;
    if (!constantTimeEqual(mac, await this.mac(payload))) return null;
    const [kind, tenantId, contactId, logId, exp] = Buffer.from(payload, 'base64url')
      .toString()
      .split('|');
    if (!kinds.includes(kind as LinkKind) || !UUID.test(tenantId) || !UUID.test(contactId)) {
      return null;
    }
    const expiresAt = Number(exp);
    if (!Number.isInteger(expiresAt) || expiresAt * 1000 <= nowMs) return null;
    if (logId && !UUID.test(logId)) return null;
    return { kind: kind as LinkKind, tenantId, contactId, logId: logId || undefined, expiresAt };
  }

  /** A per-link form token: a form can only be posted by someone who was shown the page. */
  async formToken(token: string): Promise<string> {
    return this.mac(`form|${token}`);
  }

  private async mac(text: string): Promise<string> {
    return createHmac('sha256', await this.secret())
      .update(text)
      .digest('base64url');
  }

  private secret(): Promise<Buffer> {
    this.key ??= this.load().catch((err) => {
      this.key = undefined;
      throw err;
    });
    return this.key;
  }

  private async load(): Promise<Buffer> {
    await this.serviceKeys.insertIfAbsent({
      purpose: PURPOSE,
      sealedPrivateKey: this.keys.secretBox.seal(randomBytes(32).toString('base64')),
      publicKeyPem: '',
    });
    const row = await this.serviceKeys.find(PURPOSE);
    if (!row) throw new Error('the consent link key is missing from service_keys');
    return Buffer.from(this.keys.secretBox.open(row.sealedPrivateKey), 'base64');
  }
}

export function expiresInDays(nowMs: number, days: number): number {
  return Math.floor(nowMs / 1000) + days * 86400;
}
