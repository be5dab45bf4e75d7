import { Injectable, Logger } from '@nestjs/common';
import {
  Clock,
  Database,
  DomainError,
  IdGenerator,
  JobIds,
  QueueName,
  QueueRegistry,
} from '@app/platform';
import { Actor } from '@app/events';
import { EventStore } from '@app/events';
import {
  Category,
  Channel,
  ConsentGate,
  ConsentSettingsRepository,
  ContactRepository,
} from '@app/consent';
import { GateCheck, Message, MessageView, toMessageView } from './message';
import { messageEvent } from './message.events';
import { MessageRef, MessageRepository } from './message.repository';
import { quietUntil } from './quiet-hours';

export interface SendRequest {
  contactId: string;
  channel: Channel;
  category: Category;
  subject?: string | null;
  body: string;
}

const HELD_CHANNELS: Channel[] = ['sms', 'whatsapp', 'phone'];

/**
 * Accepts outbound messages: the consent gate decides first (a refusal is `suppressed`, at any
 * hour), then quiet hours may hold an allowed marketing SMS, WhatsApp or phone message until
 * they end in the contact's time zone. The message, its first check and its event are one unit
 * of work; the send job is added after commit (the sweeper re-adds a lost one).
 */
@Injectable()
export class MessageService {
  private readonly logger = new Logger(MessageService.name);

  constructor(
    private readonly db: Database,
    private readonly repo: MessageRepository,
    private readonly contacts: ContactRepository,
    private readonly settings: ConsentSettingsRepository,
    private readonly gate: ConsentGate,
    private readonly store: EventStore,
    private readonly queues: QueueRegistry,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
  ) {}

  /** `id`: a deterministic id (an AI action's), so a second call creates nothing. */
  async accept(
    tenantId: string,
    actor: Actor,
    req: SendRequest,
    id?: string,
  ): Promise<MessageView> {
    const message = await this.db.transaction(async (tx) => {
      if (id) {
        const existing = await this.repo.find(tx, tenantId, id);
        if (existing) return existing;
      }
      const contact = await this.contacts.find(tx, tenantId, req.contactId);
      if (!contact) throw DomainError.notFound('Contact');
      const now = this.clock.now();
      const decision = await this.gate.check(
        tx,
        tenantId,
        req.contactId,
        req.channel,
        req.category,
      );
      const check: GateCheck = { at: 'accepted', ...decision, checkedAt: now.toISOString() };
      let sendAt: Date | null = null;
      if (decision.allowed && req.category === 'marketing' && HELD_CHANNELS.includes(req.channel)) {
        const s = await this.settings.consent(tx, tenantId);
        sendAt = quietUntil(now, contact.timeZone ?? s.timeZone, s.quietHours);
      }
      const m: Message = {
        tenantId,
        id: id ?? this.ids.next(),
        contactId: req.contactId,
        channel: req.channel,
        category: req.category,
        subject: req.subject ?? null,
        body: req.body,
        status: decision.allowed ? (sendAt ? 'scheduled' : 'queued') : 'suppressed',
        reason: decision.reason,
        sendAt: sendAt?.toISOString() ?? null,
        sentAt: null,
        attempts: 0,
        nextAttemptAt: (sendAt ?? now).toISOString(),
        leaseUntil: null,
        checks: [check],
        createdAt: now.toISOString(),
      };
      await this.repo.insert(tx, m);
      await this.store.record(
        tx,
        messageEvent(m, m.status === 'suppressed' ? 'suppressed' : 'accepted', actor, {
          at: 'accepted',
        }),
      );
      if (m.status !== 'suppressed') {
        tx.afterCommit(() => this.schedule(m, 'a', sendAt ? sendAt.getTime() - now.getTime() : 0));
      }
      return m;
    });
    return toMessageView(message);
  }

  async get(tenantId: string, id: string): Promise<MessageView> {
    const m = await this.repo.find(this.db, tenantId, id);
    if (!m) throw DomainError.notFound('Message');
    return toMessageView(m);
  }

  schedule(ref: MessageRef, cause: string, delayMs = 0): void {
    this.queues
      .add(
        QueueName.MessageSend,
        JobIds.messageSend(ref.tenantId, ref.id, cause),
        { tenantId: ref.tenantId, messageId: ref.id },
        { delay: Math.max(0, delayMs) },
      )
      .catch((err: Error) => this.logger.warn(`send job not added: ${err.message}`));
  }
}
