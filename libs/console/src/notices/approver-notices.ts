import { Injectable, Logger } from '@nestjs/common';
import { Database, grants, LedgerlineConfig, Mailer, Periodic, QueueName, Tx } from '@app/platform';
import { StoredEvent, StreamConsumer, StreamConsumerDeps } from '@app/events';
import { ROLES, scopesOf, UserRepository } from '@app/people';
import { AiActionService } from '@app/approvals';
import { ApproverNoticeRepository, DueNotice, NewNotice } from './approver-notice.repository';

/** The roles whose scopes let them decide: who hears of waiting work (from the one table). */
export const DECIDING_ROLES = ROLES.filter((r) => grants(scopesOf(r), ['ai-actions:decide']));

const RETRY_AFTER_MS = 60_000;
/** Failed sends are retried after 1, 2, 4, … minutes (at most an hour apart), 8 tries in all. */
export const NOTICE_MAX_ATTEMPTS = 8;
const MAX_RETRY_MS = 60 * 60_000;
const BATCH = 100;

/**
 * What is stored of a failed send: an error code (nodemailer's `code`, or `smtp_<reply code>`),
 * never the message, which can quote the recipient's address.
 */
export function noticeErrorCode(err: unknown): string {
  const e = (err ?? {}) as { code?: unknown; responseCode?: unknown };
  if (typeof e.responseCode === 'number' && Number.isInteger(e.responseCode)) {
    return `smtp_${e.responseCode}`;
  }
  if (typeof e.code === 'string' && /^[A-Za-z0-9_]{1,40}$/.test(e.code)) return e.code;
  return 'send_failed';
}

/** The link an approver follows: `{PUBLIC_BASE_URL}/console/actions/{id}`. */
export function actionLink(base: string | undefined, actionId: string): string {
  return `${(base ?? 'http://localhost:3000').replace(/\/+$/, '')}/console/actions/${actionId}`;
}

export function noticeMail(n: DueNotice, base: string | undefined) {
  const link = actionLink(base, n.actionId);
  return {
    to: n.email,
    subject: `Approval needed: ${n.actionType} (${n.risk} risk)`,
    text:
      `An AI action is waiting for your decision in Ledgerline.\n\n` +
      `Type: ${n.actionType}\nRisk: ${n.risk}\n\nReview it and approve or reject:\n${link}\n`,
    // One id per notice: a resend after a crash is recognisable as the same message.
    messageId: `<notice.${n.actionId}.${n.userId}@ledgerline>`,
  };
}

/** Sends the notices that are due (at least once; claimed rows keep two workers apart). */
@Injectable()
export class ApproverNoticeSender {
  private readonly logger = new Logger(ApproverNoticeSender.name);

  constructor(
    private readonly repo: ApproverNoticeRepository,
    private readonly mailer: Mailer,
    private readonly config: LedgerlineConfig,
    private readonly users: UserRepository,
    private readonly db: Database,
  ) {}

  async sendDue(tenantId: string): Promise<number> {
    if (!this.mailer.configured) return 0;
    let sent = 0;
    for (;;) {
      const due = await this.repo.claimDue(
        tenantId,
        RETRY_AFTER_MS,
        BATCH,
        NOTICE_MAX_ATTEMPTS,
        MAX_RETRY_MS,
      );
      for (const n of due) {
        try {
          // The address is read from people's repository when the mail goes (it may have changed).
          const user = await this.users.find(this.db, n.tenantId, n.userId);
          if (!user) {
            await this.repo.markFailed(n, 'user_gone');
            continue;
          }
          await this.mailer.send(
            noticeMail({ ...n, email: user.email }, this.config.PUBLIC_BASE_URL),
          );
          await this.repo.markSent(n);
          sent++;
        } catch (err) {
          // Retried by the sweeper with backoff; the address never reaches the log or the row.
          const code = noticeErrorCode(err);
          const last = (n.attempts ?? 0) >= NOTICE_MAX_ATTEMPTS;
          this.logger.warn(
            `approver notice for action ${n.actionId} failed (${code}); ${last ? 'given up' : 'retried later'}`,
          );
          await this.repo.markFailed(n, code);
        }
      }
      if (due.length < BATCH) return sent;
    }
  }

  /** Every tenant with unsent notices: what a lost job or an SMTP outage left behind. */
  async sweep(): Promise<number> {
    if (!this.mailer.configured) return 0;
    let sent = 0;
    for (const tenantId of await this.repo.tenantsWithDue(NOTICE_MAX_ATTEMPTS)) {
      sent += await this.sendDue(tenantId);
    }
    return sent;
  }
}

/**
 * Reacts to `ai_action.pending`: one notice row per approver of the tenant, in the same
 * transaction as the stream cursor moves (a replay adds none), then sends them after commit.
 * Without SMTP_URL there is nothing to do and the cursor keeps up with the stream.
 */
@Injectable()
export class ApproverNoticeConsumer extends StreamConsumer<number> {
  readonly queue = QueueName.ApproverNotice;
  override readonly concurrency = 2;

  constructor(
    deps: StreamConsumerDeps,
    private readonly repo: ApproverNoticeRepository,
    private readonly users: UserRepository,
    private readonly sender: ApproverNoticeSender,
    private readonly mailer: Mailer,
    private readonly actions: AiActionService,
  ) {
    super(deps);
  }

  protected override hasWork(): Promise<boolean> {
    return Promise.resolve(this.mailer.configured);
  }

  protected override async consume(tx: Tx, tenantId: string, events: StoredEvent[]) {
    const pending = events.filter((e) => e.type === 'ai_action.pending');
    if (!pending.length) return 0;
    const approvers = await this.users.withRoles(tenantId, DECIDING_ROLES);
    const notices: NewNotice[] = [];
    for (const e of pending) {
      const d = e.data as { actionId?: string; type?: string; risk?: string };
      if (!d.actionId) continue;
      // Only what still waits (a consumer catching up on old events tells nobody of the past).
      const now = await this.actions.get(tenantId, d.actionId).catch(() => null);
      if (now?.status !== 'pending_approval') continue;
      for (const u of approvers) {
        notices.push({
          tenantId,
          actionId: d.actionId,
          userId: u.id,
          actionType: String(d.type ?? 'unknown'),
          risk: String(d.risk ?? 'unknown'),
        });
      }
    }
    return this.repo.insert(tx, notices);
  }

  protected override async afterCommit(tenantId: string, added: number): Promise<void> {
    if (added > 0) await this.sender.sendDue(tenantId);
  }
}

/** Retries unsent notices on the worker's timer. */
@Injectable()
export class ApproverNoticeSweeper {
  constructor(private readonly sender: ApproverNoticeSender) {}

  @Periodic('approver-notice-sweeper', RETRY_AFTER_MS)
  sweep(): Promise<number> {
    return this.sender.sweep();
  }
}
