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
import { Category, Channel, ConsentGate, ContactRepository, GateResult } from '@app/consent';
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
  tenantId: string;
  id: string;
  actor: Actor;
  req: SendRequest;
  /** The id is the caller's (an AI action's): a second acceptance answers the first. */
  deterministic: boolean;
}

const HELD_CHANNELS: Channel[] = ['sms', 'whatsapp', 'phone'];

/**
 * Accepts outbound messages: the consent gate decides first (a refusal is `suppressed`, at any
 * hour), then quiet hours may hold an allowed marketing SMS, WhatsApp or phone message until
 * they end in the contact's time zone. The first check, the message and its event are one unit
 * of work, group-committed with the requests that arrive meanwhile (one gate read, one insert
 * per batch); the send jobs are added after commit (the sweeper re-adds a lost one).
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
        { weigh: (a) => a.req.body.length + 1000, max: 8 * 1024 * 1024 },
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
    const message = await this.commits.submit({
      tenantId,
      id: id ?? this.ids.next(),
      actor,
      req,
      deterministic: Boolean(id),
    });
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
  private async write(tx: Tx, batch: Acceptance[]): Promise<(Message | Error)[]> {
    const now = this.clock.now();
    // One gate read for the batch, through the pool (a failed read cannot abort the unit of work);
    // the worker checks again, when it claims the message, just before it sends.
    const decisions = await this.gate.checkMany(
      this.db,
      batch.map(({ tenantId, req }) => ({ tenantId, ...req })),
    );
    const composed = batch.map((a, i) =>
      decisions[i].read && !decisions[i].read.contact
        ? DomainError.notFound('Contact')
        : compose(a, decisions[i], now),
    );
    const erased = await this.erasedContacts(tx, composed);
    const messages = composed.map((m) =>
      m instanceof Error || !erased.has(`${m.tenantId}/${m.contactId}`)
        ? m
        : suppressedByErasure(m),
    );
    const inserted = await this.repo.insertMany(
      tx,
      messages.filter((m): m is Message => !(m instanceof Error)),
    );
    const out: (Message | Error)[] = [];
    const events: SystemEvent[] = [];
    const jobs: Message[] = [];
    const answered = new Set<string>();
    for (const [i, m] of messages.entries()) {
      if (m instanceof Error) {
        out.push(m);
        continue;
      }
      const first = inserted.has(m.id) && !answered.has(m.id);
      answered.add(m.id);
      if (!first) {
        // Only a deterministic id (an AI action's second run) meets an existing message.
        const existing = batch[i].deterministic ? await this.repo.find(tx, m.tenantId, m.id) : null;
        out.push(existing ?? m);
        continue;
      }
      const kind = m.status === 'suppressed' ? 'suppressed' : 'accepted';
      events.push(messageEvent(m, kind, batch[i].actor, { at: 'accepted' }));
      if (m.status !== 'suppressed') jobs.push(m);
      out.push(m);
    }
    await this.store.record(tx, ...events);
    tx.afterCommit(() => this.scheduleAccepted(jobs));
    return out;
  }

  /**
   * Contacts erased since the gate read: their messages are refused here, under the contacts'
   * row locks (FOR SHARE), so no body is written after the erasure removed them.
   */
  private async erasedContacts(tx: Tx, ms: (Message | Error)[]): Promise<Set<string>> {
    const erased = new Set<string>();
    const byTenant = new Map<string, Set<string>>();
    for (const m of ms) {
      if (m instanceof Error || m.status === 'suppressed') continue;
      const ids = byTenant.get(m.tenantId) ?? new Set<string>();
      byTenant.set(m.tenantId, ids.add(m.contactId));
    }
    for (const [tenantId, ids] of byTenant) {
      for (const id of await this.contacts.erasedForShare(tx, tenantId, [...ids])) {
        erased.add(`${tenantId}/${id}`);
      }
    }
    return erased;
  }

  onApplicationShutdown(): Promise<void> {
    return this.commits.drain();
  }

  /** First send jobs: those owed now together, those held by quiet hours each for its time. */
  private scheduleAccepted(ms: Message[]): void {
    const held = ms.filter((m) => m.sendAt);
    this.schedule(
      ms.filter((m) => !m.sendAt),
      'a',
    );
    for (const m of held) {
      this.schedule([m], 'a', Date.parse(m.nextAttemptAt) - Date.parse(m.createdAt));
    }
  }

  /** Send jobs for messages owed now or after `delayMs`: one job per tenant, one Redis round trip. */
  schedule(refs: MessageRef[], cause: string, delayMs = 0): void {
    const byTenant = new Map<string, string[]>();
    for (const r of refs) {
      const ids = byTenant.get(r.tenantId) ?? [];
      byTenant.set(r.tenantId, ids);
      ids.push(r.id);
    }
    this.queues
      .addBulk(
        QueueName.MessageSend,
        [...byTenant].map(([tenantId, messageIds]) => ({
          jobId: JobIds.messageSend(tenantId, messageIds[0], cause),
          data: { tenantId, messageIds },
          opts: { delay: Math.max(0, delayMs) },
        })),
      )
      .catch((err: Error) => this.logger.warn(`send jobs not added: ${err.message}`));
  }
}

/**
 * The message as accepted: the gate's refusal is `suppressed` (at any hour, its content not
 * kept); quiet hours may hold an allowed marketing SMS, WhatsApp or phone message until they end
 * in the contact's time zone.
 */
function compose(a: Acceptance, decision: GateResult, now: Date): Message {
  const { req } = a;
  const check: GateCheck = {
    at: 'accepted',
    allowed: decision.allowed,
    reason: decision.reason,
    consentLogId: decision.consentLogId,
    checkedAt: now.toISOString(),
  };
  const settings = decision.read?.settings;
  const held =
    decision.allowed &&
    settings &&
    req.category === 'marketing' &&
    HELD_CHANNELS.includes(req.channel);
  const sendAt = held
    ? quietUntil(now, decision.read?.contact?.timeZone ?? settings.timeZone, settings.quietHours)
    : null;
  return {
    tenantId: a.tenantId,
    id: a.id,
    contactId: req.contactId,
    channel: req.channel,
    category: req.category,
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
