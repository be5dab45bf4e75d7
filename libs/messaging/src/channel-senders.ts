import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { isIP } from 'node:net';
import { Agent, request } from 'undici';
import { LedgerlineConfig, Mailer } from '@app/platform';
import { SecurityError, SsrfGuard } from '@app/security';
import { Channel, ConsentLinks, expiresInDays, UNSUBSCRIBE_LINK_DAYS } from '@app/consent';
import { Message } from './message';

/** How one try went: sent, or an error that is retried (`permanent`: not worth retrying). */
export type SendOutcome = { ok: true } | { ok: false; error: string; permanent: boolean };

const SMS_CHANNELS: Channel[] = ['sms', 'whatsapp'];

/**
 * The transports: email over SMTP (the platform Mailer, nodemailer), SMS and WhatsApp as a JSON
 * POST to SMS_PROVIDER_URL behind the webhooks' SSRF guard. Every try of one message carries the
 * same Message-ID / Idempotency-Key (the message id), so a resend after a crash is recognisable.
 */
@Injectable()
export class ChannelSenders implements OnApplicationShutdown {
  private readonly ssrf: SsrfGuard;
  private agent?: { address: string; agent: Agent };

  constructor(
    private readonly config: LedgerlineConfig,
    private readonly mailer: Mailer,
    private readonly links: ConsentLinks,
  ) {
    this.ssrf = new SsrfGuard({
      allowHttp: config.WEBHOOK_ALLOW_HTTP,
      allowedCidrs: config.WEBHOOK_ALLOWED_CIDRS,
    });
  }

  get timeoutMs(): number {
    return Math.min(
      this.config.WEBHOOK_TIMEOUT_MS,
      Math.floor(this.config.MESSAGE_SEND_LEASE_MS / 2),
    );
  }

  async send(m: Message, address: string, nowMs: number): Promise<SendOutcome> {
    if (m.channel === 'email') return this.email(m, address, nowMs);
    if (SMS_CHANNELS.includes(m.channel)) return this.sms(m, address);
    return { ok: false, error: `no_provider_for_${m.channel}`, permanent: true };
  }

  private async email(m: Message, to: string, nowMs: number): Promise<SendOutcome> {
    if (!this.mailer.configured)
      return { ok: false, error: 'smtp_not_configured', permanent: true };
    const headers: Record<string, string> = { 'X-Ledgerline-Message-Id': m.id };
    if (m.category === 'marketing') {
      const token = await this.links.sign({
        kind: 'u',
        tenantId: m.tenantId,
        contactId: m.contactId,
        expiresAt: expiresInDays(nowMs, UNSUBSCRIBE_LINK_DAYS),
      });
      headers['List-Unsubscribe'] = `<${this.links.baseUrl()}/unsubscribe/${token}>`;
      headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
    }
    try {
      // At most half the lease, like SMS: the claim must still be ours when the outcome lands.
      await this.mailer.send(
        {
          to,
          subject: m.subject ?? '',
          text: m.body ?? '',
          headers,
          messageId: `<${m.id}@ledgerline>`,
        },
        Math.floor(this.config.MESSAGE_SEND_LEASE_MS / 2),
      );
      return { ok: true };
    } catch (err) {
      const e = err as Error & { code?: string; responseCode?: number };
      // 5xx from the server about this message (not the connection) will not change on retry.
      const permanent = typeof e.responseCode === 'number' && e.responseCode >= 550;
      return { ok: false, error: `smtp_${(e.code ?? 'error').toLowerCase()}`, permanent };
    }
  }

  private async sms(m: Message, to: string): Promise<SendOutcome> {
    const url = this.config.SMS_PROVIDER_URL;
    if (!url) return { ok: false, error: 'sms_provider_not_configured', permanent: true };
    let destination;
    try {
      destination = await this.ssrf.check(url);
    } catch (err) {
      if (err instanceof SecurityError)
        return { ok: false, error: 'blocked_destination', permanent: false };
      throw err;
    }
    try {
      const res = await request(destination.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Ledgerline-Messaging/1.0',
          'idempotency-key': m.id,
        },
        body: JSON.stringify({ messageId: m.id, channel: m.channel, to, body: m.body ?? '' }),
        dispatcher: this.agentFor(destination.addresses[0]),
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await res.body.dump().catch(() => undefined);
      if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true };
      return { ok: false, error: `http_${res.statusCode}`, permanent: false };
    } catch (err) {
      const e = err as Error & { code?: string };
      return {
        ok: false,
        error: (e.code ?? e.name ?? 'connection_error').toLowerCase(),
        permanent: false,
      };
    }
  }

  /** One keep-alive pool pinned to the address the guard checked (no second DNS lookup). */
  private agentFor(address: string): Agent {
    if (this.agent?.address === address) return this.agent.agent;
    void this.agent?.agent.close().catch(() => undefined);
    const family = isIP(address);
    const agent = new Agent({
      keepAliveTimeout: 30000,
      connections: 16,
      connect: {
        lookup: (
          _host: string,
          opts: { all?: boolean },
          cb: (
            err: Error | null,
            address: string | { address: string; family: number }[],
            family?: number,
          ) => void,
        ) => (opts.all ? cb(null, [{ address, family }]) : cb(null, address, family)),
      },
    });
    this.agent = { address, agent };
    return agent;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.agent?.agent.close().catch(() => undefined);
  }
}
