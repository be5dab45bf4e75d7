import { ApiProperty } from '@nestjs/swagger';
import { ActorDto } from './publish-event.dto';

/** 202 for POST /v1/events (and its idempotent replay). */
export class EventAcceptedDto {
  @ApiProperty({ format: 'uuid' })
  id: string;
  type: string;
  status: 'accepted';
  @ApiProperty({ format: 'date-time' })
  receivedAt: string;
}

/** 202 for POST /v1/events/batch: the new ids, in the order given. */
export class BatchAcceptedDto {
  @ApiProperty({ type: [String], format: 'uuid' })
  ids: string[];
}

export class EventAuditRefDto {
  chain: 'main';
  seq: number;
}

export class EventDeliveryCountsDto {
  pending: number;
  succeeded: number;
  failed: number;
}

/** GET /v1/events/{id}: the event, where it is in the chain and how its deliveries stand. */
export class EventDetailDto {
  @ApiProperty({ format: 'uuid' })
  id: string;
  type: string;
  subject: string | null;
  actor: ActorDto;
  actingAsTenantId: string | null;
  @ApiProperty({ format: 'date-time' })
  occurredAt: string;
  @ApiProperty({ format: 'date-time' })
  receivedAt: string;
  data: Record<string, unknown>;
  /** null until the event is chained */
  audit: EventAuditRefDto | null;
  deliveries: EventDeliveryCountsDto;
}
