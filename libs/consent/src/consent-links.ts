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

const uuidBytes = (id: string) => Buffer.from(id.replace(/-/g, ''), 'hex');
const uuidString = (b: Buffer) => {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

/**
 * Signed, expiring links for contacts (no login): `<claims b64url>.<HMAC-SHA256/128 b64url>`,
 * the claims packed as bytes (kind, tenant, contact, expiry, confirmed record) to stay short. The HMAC
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

  /** PUBLIC_BASE_URL (required with SMTP_URL); never a request's Host header. */
  baseUrl(): string {
    const base = this.config.PUBLIC_BASE_URL ?? `http://localhost:${this.config.PORT}`;
    return base.replace(/\/+$/, '');
  }

  /** The origin of PUBLIC_BASE_URL, or null when it is unset. */
  publicOrigin(): string | null {
    return this.config.PUBLIC_BASE_URL ? new URL(this.config.PUBLIC_BASE_URL).origin : null;
  }

  async sign(claims: LinkClaims): Promise<string> {
    const bytes = Buffer.alloc(claims.logId ? 53 : 37);
    bytes.write(claims.kind, 0, 'latin1');
    uuidBytes(claims.tenantId).copy(bytes, 1);
    uuidBytes(claims.contactId).copy(bytes, 17);
    bytes.writeUInt32BE(claims.expiresAt, 33);
    if (claims.logId) uuidBytes(claims.logId).copy(bytes, 37);
    const payload = bytes.toString('base64url');
    return `${payload}.${await this.mac(payload)}`;
  }

  /** The claims of a valid, unexpired link of that kind; null for anything else. */
  async verify(token: string, kinds: LinkKind[], nowMs: number): Promise<LinkClaims | null> {
    if (typeof token !== 'string' || token.length > 128) return null;
    const [payload, mac, extra] = token.split('.');
    if (!payload || !mac || extra !== undefined) return null;
    if (!constantTimeEqual(mac, await this.mac(payload))) return null;
    const bytes = Buffer.from(payload, 'base64url');
    if (bytes.length !== 37 && bytes.length !== 53) return null;
    const kind = bytes.toString('latin1', 0, 1) as LinkKind;
    if (!kinds.includes(kind)) return null;
    const expiresAt = bytes.readUInt32BE(33);
    if (expiresAt * 1000 <= nowMs) return null;
    return {
      kind,
      tenantId: uuidString(bytes.subarray(1, 17)),
      contactId: uuidString(bytes.subarray(17, 33)),
      logId: bytes.length === 53 ? uuidString(bytes.subarray(37, 53)) : undefined,
      expiresAt,
    };
  }

  /** A per-link form token: a form can only be posted by someone who was shown the page. */
  async formToken(token: string): Promise<string> {
    return this.mac(`form|${token}`);
  }

  private async mac(text: string): Promise<string> {
    return createHmac('sha256', await this.secret())
      .update(text)
      .digest()
      .subarray(0, 16) // 128 bits: short enough for a URL path segment, far past guessing
      .toString('base64url');
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
