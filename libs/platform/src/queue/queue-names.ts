/** Every BullMQ queue Ledgerline uses. Names cannot contain ':' (BullMQ key separator). */
export enum QueueName {
  /** Per tenant: append new events to the audit chain. */
  Audit = 'audit',
  /** Per tenant: match new events against webhook endpoints and create deliveries. */
  Fanout = 'fanout',
  /** Per delivery: sign and POST one webhook attempt. */
  Delivery = 'delivery',
  /** Per AI action: expire it at its deadline (a delayed job; a sweeper covers a lost one). */
  AiExpiry = 'ai-expiry',
  /** Per AI action: run its in-process executor once it is approved. */
  AiExecution = 'ai-execution',
  /** Per message: check the consent gate again and send it once (delayed for quiet hours, retries). */
  MessageSend = 'message-send',
  /** Per tenant: tell the approvers of actions that start to wait (email). */
  ApproverNotice = 'approver-notice',
}

/** The queues of per-tenant stream consumers (the relay feeds them). */
export type StreamQueue = QueueName.Audit | QueueName.Fanout | QueueName.ApproverNotice;
export const STREAM_QUEUES: readonly StreamQueue[] = [
  QueueName.Audit,
  QueueName.Fanout,
  QueueName.ApproverNotice,
];

/** A stream job asks one consumer to catch a tenant up to (at least) a stream position. */
export interface StreamJob {
  tenantId: string;
  upTo: number;
}

export interface DeliveryJob {
  tenantId: string;
  deliveryId: string;
  /** The delivery's attempt count when this job was made; a stale job finds it moved on. */
  attempt: number;
  endpointId: string;
  /** Lets the dispatcher load the event while it claims (absent in jobs queued before it was). */
  eventId?: string;
}

/** One AI action, by tenant and id. */
export interface AiActionJob {
  tenantId: string;
  actionId: string;
}

/** Outbound messages of one tenant, sent together (an acceptance batch, a retry, a sweep). */
export interface MessageJob {
  tenantId: string;
  messageIds: string[];
}

export interface JobPayloads {
  [QueueName.Audit]: StreamJob;
  [QueueName.Fanout]: StreamJob;
  [QueueName.Delivery]: DeliveryJob;
  [QueueName.AiExpiry]: AiActionJob;
  [QueueName.AiExecution]: AiActionJob;
  [QueueName.MessageSend]: MessageJob;
  [QueueName.ApproverNotice]: StreamJob;
}
