import { StreamQueue } from './queue-names';

/**
 * Every BullMQ job id Ledgerline makes, in one place. Ids are deterministic, so adding the same
 * job twice is a no-op; they never contain ':' (BullMQ's key separator).
 */
export const JobIds = {
  /** A consumer catching a tenant up to a stream position (one per head the relay saw). */
  stream: (consumer: StreamQueue, tenantId: string, upTo: number) =>
    `${consumer}.${tenantId}.${upTo}`,
  /** The rest of a stream job that ran out of its time budget at `at` (ms since the epoch). */
  streamContinuation: (consumer: StreamQueue, tenantId: string, at: number) =>
    `${consumer}.${tenantId}.c${at}`,
  /** One delivery attempt; `cause` is 'a' automatic, 'm' manual, 's<slot>' the sweeper. */
  delivery: (deliveryId: string, attempt: number, cause: string) =>
    `delivery.${deliveryId}.${attempt}.${cause}`,
  /** The expiry of one AI action (one per action: its deadline never moves). */
  aiExpiry: (tenantId: string, actionId: string) => `ai-expiry.${tenantId}.${actionId}`,
  /** The in-process execution of one AI action; `cause` is 'a' automatic or 's<slot>' the sweeper. */
  aiExecution: (tenantId: string, actionId: string, cause: string) =>
    `ai-execution.${tenantId}.${actionId}.${cause}`,
  /**
   * Send attempts of a tenant's messages, named by the first (a message is first in at most one
   * batch per cause); `cause` is 'a' on acceptance, 'r<n>' a retry, 's<slot>' the sweeper.
   */
  messageSend: (tenantId: string, firstMessageId: string, cause: string) =>
    `message-send.${tenantId}.${firstMessageId}.${cause}`,
};
