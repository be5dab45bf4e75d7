import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  ValidateIf,
  Min,
} from 'class-validator';
import { IsTimestamp, PageQuery } from '@app/platform';
import { EVENT_TYPE_PATTERN } from '../event-type-pattern';

export class CreateEndpointDto {
  @ApiProperty({ maxLength: 2048, example: 'https://example.com/webhooks' })
  @IsString()
  @MaxLength(2048)
  url: string;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(130, { each: true })
  @Matches(EVENT_TYPE_PATTERN, {
    each: true,
    message: 'each event type must be exact, prefix.* or *',
  })
  eventTypes: string[];

  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10000)
  rateLimitPerSecond?: number;
}

export class UpdateEndpointDto {
  // null is not "unchanged" for these two: it is refused.
  @ApiPropertyOptional({ maxLength: 2048 })
  @ValidateIf((o: UpdateEndpointDto) => o.url !== undefined)
  @IsString()
  @MaxLength(2048)
  url?: string;

  @ValidateIf((o: UpdateEndpointDto) => o.eventTypes !== undefined)
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(130, { each: true })
  @Matches(EVENT_TYPE_PATTERN, {
    each: true,
    message: 'each event type must be exact, prefix.* or *',
  })
  eventTypes?: string[];

  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string | null;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10000)
  rateLimitPerSecond?: number | null;
}

export class RecoverDto {
  @ApiProperty({ format: 'date-time' })
  @IsTimestamp()
  since: string;
}

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed', 'waiting'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export class DeliveriesQuery extends PageQuery {
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  status?: DeliveryStatus;
}
