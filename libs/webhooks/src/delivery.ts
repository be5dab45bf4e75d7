import { LedgerlineConfig } from '@app/platform';
import { AttemptResult, OutcomeDecision } from './delivery-outcome-policy';
import { DeliveryStatus } from './dto/endpoint.dto';
import { WebhookEndpoint } from './webhook-endpoint';

/**
 * How long a claimed attempt is leased to its worker: the HTTP timeout plus a margin. Until it
 * runs out, no other worker (nor the sweeper) takes the delivery.
 */
export function attemptLeaseMs(config: LedgerlineConfig): number {
  return config.WEBHOOK_TIMEOUT_MS + config.WEBHOOK_LEASE_MARGIN_MS;
}

export interface Delivery {
  tenantId: string;
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  status: DeliveryStatus;
  attemptCount: number;
  nextAttemptAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface Attempt {
  deliveryId: string;
  attemptedAt: Date;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseBody: string | null;
}

export interface NewDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  status: 'pending' | 'waiting';
  /** Claimed for its first attempt by the worker that creates it (see DeliveryHandoff). */
  leased?: boolean;
}

/** A delivery to put on the queue for its next attempt. */
export interface DueDelivery {
  tenantId: string;
  id: string;
  endpointId: string;
  eventId: string;
  attemptCount: number;
  status: DeliveryStatus;
}

/** The right to make one attempt now, with the endpoint it goes to. */
export interface ClaimedAttempt {
  deliveryId: string;
  /** The attempt number the claim took. */
  attempt: number;
  endpoint: WebhookEndpoint;
  eventId: string;
}

/** A due delivery of a slow endpoint that the slow lane may claim. */
export interface SlowLaneCandidate {
  tenantId: string;
  endpointId: string;
  deliveryId: string;
}

/** One attempt to record, with what the sender saw. */
export interface AttemptRecord {
  tenantId: string;
  attemptId: string;
  deliveryId: string;
  endpointId: string;
  attempt: number;
  result: AttemptResult;
  durationMs: number;
  responseBody: string | null;
}

export interface RecordedAttempt {
  /** False when the delivery had moved on (disabled, deleted, retried by hand) meanwhile. */
  moved: boolean;
  decision: OutcomeDecision;
}
