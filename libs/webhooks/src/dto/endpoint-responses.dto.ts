import { ApiProperty } from '@nestjs/swagger';
import { DELIVERY_STATUSES, DeliveryStatus } from './endpoint.dto';

export class EndpointDto {
  @ApiProperty({ format: 'uuid' })
  id: string;
  url: string;
  @ApiProperty({ type: [String], example: ['invoice.*'] })
  eventTypes: string[];
  description: string | null;
  rateLimitPerSecond: number | null;
  status: 'enabled' | 'disabled';
  /** Why it was disabled (410 Gone, failing for too long); null while enabled */
  disabledReason: string | null;
  @ApiProperty({ format: 'date-time' })
  createdAt: string;
  @ApiProperty({ format: 'date-time' })
  updatedAt: string;
}

/** 201 for POST /v1/webhooks/endpoints: the secret is shown here and on rotation only. */
export class CreatedEndpointDto extends EndpointDto {
  @ApiProperty({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })
  secret: string;
}

export class SecretDto {
  /** The new secret; the old one keeps signing alongside it for the overlap window */
  @ApiProperty({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })
  secret: string;
}

export class AttemptDto {
  @ApiProperty({ format: 'date-time' })
  attemptedAt: string;
  /** The endpoint's HTTP status; null when no answer came */
  statusCode: number | null;
  durationMs: number;
  /** e.g. timeout, blocked_destination; null on success */
  error: string | null;
  /** The first 1 KiB of the answer */
  responseBody: string | null;
}

export class DeliveryDto {
  @ApiProperty({ format: 'uuid' })
  id: string;
  @ApiProperty({ format: 'uuid' })
  endpointId: string;
  @ApiProperty({ format: 'uuid' })
  eventId: string;
  eventType: string;
  @ApiProperty({ enum: DELIVERY_STATUSES })
  status: DeliveryStatus;
  attemptCount: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  nextAttemptAt: string | null;
  @ApiProperty({ format: 'date-time' })
  createdAt: string;
  @ApiProperty({ type: [AttemptDto] })
  attempts: AttemptDto[];
}

/** A delivery queued now: `waiting` while the endpoint is disabled. */
export class QueuedDeliveryDto {
  @ApiProperty({ format: 'uuid', description: 'The delivery' })
  id: string;
  status: 'pending' | 'waiting';
}

/** 202 for POST …/test: the test event and its delivery to this endpoint. */
export class TestDeliveryDto extends QueuedDeliveryDto {
  @ApiProperty({ format: 'uuid' })
  endpointId: string;
  @ApiProperty({
    format: 'uuid',
    description: 'The webhook.endpoint.test event (the webhook-id header)',
  })
  eventId: string;
  eventType: 'webhook.endpoint.test';
}

export class RecoverResultDto {
  @ApiProperty({ format: 'uuid' })
  endpointId: string;
  @ApiProperty({ format: 'date-time' })
  since: string;
  /** Failed or waiting deliveries sent again */
  resent: number;
  /** Deliveries created for matching events the endpoint never had */
  created: number;
}
