import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import {
  Clock,
  Database,
  DomainError,
  GroupCommit,
  Tx,
  IdGenerator,
  JobIds,
  QueueName,
  QueueRegistry,
} from '@app/platform';
import { Actor, EventStore, SystemEvent } from '@app/events';
import { Category, Channel, ConsentGate, ContactRepository } from '@app/consent';
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

interface Acceptance {
  message: Message;
  actor: Actor;
  /** The id is the caller's (an AI action's): a second acceptance answers the first. */
  deterministic: boolean;
}

const HELD_CHANNELS: Channel[] = ['sms', 'whatsapp', 'phone'];

/**
 * Accepts outbound messages: the consent gate decides first (a refusal is `suppressed`, at any
 * hour), then quiet hours may hold an allowed marketing SMS, WhatsApp or phone message until
 * they end in the contact's time zone. The message, its first check and its event are one unit
 * of work; the send job is added after commit (the sweeper re-adds a lost one).
 */
@Injectable()
export class MessageService implements OnApplicationShutdown {
  private readonly logger = new Logger(MessageService.name);
  private readonly commits: GroupCommit<Acceptance, Message>;

  constructor(
    private readonly db: Database,
    private readonly repo: MessageRepository,
    private readonly gate: ConsentGate,
    private readonly contacts: ContactRepository,
    private readonly store: EventStore,
    private readonly queues: QueueRegistry,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
  ) {
    this.commits = new GroupCommit<Acceptance, Message>(db, (tx, b) => this.write(tx, b), {
      limits: [
        { weigh: () => 1, max: 500 },
        { weigh: (a) => (a.message.body?.length ?? 0) + 1000, max: 8 * 1024 * 1024 },
      ],
    });
  }

  /** `id`: a deterministic id (an AI action's), so a second call creates nothing. */
  async accept(
    tenantId: string,
    actor: Actor,
    req: SendRequest,
    id?: string,
  ): Promise<MessageView> {
    const now = this.clock.now();
    // The first check reads outside the unit of work (no lock is held while it reads); the
    // worker checks again, inside its claim, just before it sends.
    const decision = await this.gate.check(
      this.db,
      tenantId,
      req.contactId,
      req.channel,
      req.category,
    );
    if (decision.read && !decision.read.contact) throw DomainError.notFound('Contact');
    const check: GateCheck = {
      at: 'accepted',
      allowed: decision.allowed,
      reason: decision.reason,
      consentLogId: decision.consentLogId,
      checkedAt: now.toISOString(),
    };
    let sendAt: Date | null = null;
    const settings = decision.read?.settings;
    if (
      decision.allowed &&
      settings &&
      req.category === 'marketing' &&
      HELD_CHANNELS.includes(req.channel)
    ) {
      sendAt = quietUntil(
        now,
        decision.read?.contact?.timeZone ?? settings.timeZone,
        settings.quietHours,
      );
    }
    const m: Message = {
      tenantId,
      id: id ?? this.ids.next(),
      contactId: req.contactId,
      channel: req.channel,
      category: req.category,
      // A suppressed message is never sent: its content is not kept.
      subject: decision.allowed ? (req.subject ?? null) : null,
      body: decision.allowed ? req.body : null,
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
    const message = await this.commits.submit({ message: m, actor, deterministic: Boolean(id) });
    return toMessageView(message);
  }

  async get(tenantId: string, id: string): Promise<MessageView> {
    const m = await this.repo.find(this.db, tenantId, id);
    if (!m) throw DomainError.notFound('Message');
    return toMessageView(m);
  }

  /**
   * One batch of accepted messages: their rows and events in one transaction. Every event
   * appends to the tenant's stream, whose row stays locked until commit; one commit per message
   * would serialise a tenant's messages at one commit each.
   */
  private async write(tx: Tx, batch: Acceptance[]): Promise<Message[]> {
    const out: Message[] = [];
    const events: SystemEvent[] = [];
    // An erasure that ran since the gate's first read: its contact's messages are refused here,
    // under the contact's row lock, so no body is written after the erasure removed them.
    const erased = new Set<string>();
    const byTenant = new Map<string, string[]>();
    for (const { message: m } of batch) {
      if (m.status !== 'suppressed') {
        byTenant.set(m.tenantId, [...(byTenant.get(m.tenantId) ?? []), m.contactId]);
      }
    }
    for (const [tenantId, ids] of byTenant) {
      for (const id of await this.contacts.erasedForShare(tx, tenantId, [...new Set(ids)])) {
        erased.add(`${tenantId}/${id}`);
      }
    }
    for (const { message: original, actor, deterministic } of batch) {
      const m = erased.has(`${original.tenantId}/${original.contactId}`)
        ? suppressedByErasure(original)
        : original;
      if (deterministic) {
        const existing = await this.repo.find(tx, m.tenantId, m.id);
        if (existing) {
          out.push(existing);
          continue;
        }
      }
      await this.repo.insert(tx, m);
      events.push(
        messageEvent(m, m.status === 'suppressed' ? 'suppressed' : 'accepted', actor, {
          at: 'accepted',
        }),
      );
      if (m.status !== 'suppressed') {
        const delay = Date.parse(m.nextAttemptAt) - Date.parse(m.createdAt);
        tx.afterCommit(() => this.schedule(m, 'a', delay));
      }
      out.push(m);
    }
    await this.store.record(tx, ...events);
    return out;
  }

  onApplicationShutdown(): Promise<void> {
    return this.commits.drain();
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

function suppressedByErasure(m: Message): Message {
  return {
    ...m,
    subject: null,
    body: null,
    status: 'suppressed',
    reason: 'no_consent',
    sendAt: null,
    checks: m.checks.map((c) =>
      c.at === 'accepted' ? { ...c, allowed: false, reason: 'no_consent' } : c,
    ),
  };
}
