import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { IsTimestamp } from '@app/platform';
import { ACTOR_TYPES, ActorType, EVENT_TYPE_PATTERN } from '../event-types';

export class ActorDto {
  @IsIn(ACTOR_TYPES)
  type: ActorType;

  @IsString()
  @Length(1, 128)
  id: string;
}

export class PublishEventDto {
  @ApiProperty({
    maxLength: 128,
    pattern: EVENT_TYPE_PATTERN.source,
    example: 'invoice.paid',
    description:
      'Lowercase dotted name; reserved prefixes (tenant., api_key., webhook., …) are 422',
  })
  @IsString()
  @MaxLength(128)
  @Matches(EVENT_TYPE_PATTERN, {
    message: 'type must be a lowercase dotted name like invoice.paid',
  })
  type: string;

  @IsOptional()
  @IsString()
  @MaxLength(512)
  subject?: string;

  @IsDefined()
  @ValidateNested()
  @Type(() => ActorDto)
  actor: ActorDto;

  @IsOptional()
  @IsUUID()
  actingAsTenantId?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Defaults to now' })
  @IsOptional()
  @IsTimestamp()
  occurredAt?: string;

  @IsObject()
  data: Record<string, unknown>;
}

export class PublishEventBatchDto {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(500)
  @ValidateNested({ each: true })
  @Type(() => PublishEventDto)
  events: PublishEventDto[];
}
