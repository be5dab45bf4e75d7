import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { createTransport, type Transporter } from 'nodemailer';
import { LedgerlineConfig } from '../config/ledgerline-config';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** Extra headers, e.g. List-Unsubscribe (RFC 8058). */
  headers?: Record<string, string>;
  /** A stable Message-ID, so a resend after a crash can be recognised by the receiving side. */
  messageId?: string;
}

export class MailNotConfiguredError extends Error {
  constructor() {
    super('SMTP_URL is not set');
  }
}

/**
 * Sends mail over SMTP_URL with nodemailer, one pooled transport per process. Callers decide
 * what may be sent (consent, roles); this only delivers and throws on any SMTP failure, so the
 * caller's job retries it.
 */
@Injectable()
export class Mailer implements OnModuleDestroy {
  private transport?: Transporter;

  constructor(private readonly config: LedgerlineConfig) {}

  get configured(): boolean {
    return Boolean(this.config.SMTP_URL);
  }

  /**
   * Returns the SMTP server's answer to the message (its queue id line). With `deadlineMs`, a
   * send still unanswered then fails with code `ETIMEDOUT` and the pool is closed (a fresh one
   * is opened for the next send), so a stalled server cannot hold a caller past its lease.
   */
  async send(message: MailMessage, deadlineMs?: number): Promise<string> {
    if (!deadlineMs) return this.sendNow(message);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const stalled = this.transport;
        this.transport = undefined;
        stalled?.close();
        reject(Object.assign(new Error('SMTP send deadline passed'), { code: 'ETIMEDOUT' }));
      }, deadlineMs);
      timer.unref();
    });
    try {
      return await Promise.race([this.sendNow(message), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async sendNow(message: MailMessage): Promise<string> {
    const info = await this.transporter().sendMail({
      from: this.config.MAIL_FROM,
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
      headers: message.headers,
      messageId: message.messageId,
    });
    return String(info.response ?? '');
  }

  onModuleDestroy(): void {
    this.transport?.close();
  }

  private transporter(): Transporter {
    if (!this.config.SMTP_URL) throw new MailNotConfiguredError();
    this.transport ??= createTransport({
      url: this.config.SMTP_URL,
      pool: true,
      maxConnections: this.config.SMTP_POOL_SIZE,
      connectionTimeout: 10_000,
      socketTimeout: 30_000,
    });
    return this.transport;
  }
}
