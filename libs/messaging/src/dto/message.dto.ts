import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, Length, MaxLength } from 'class-validator';
import { CATEGORIES, Category, CHANNELS, Channel } from '@app/consent';

export class SendMessageDto {
  @IsUUID()
  contactId: string;

  @IsIn(CHANNELS)
  channel: Channel;

  @IsIn(CATEGORIES)
  category: Category;

  @IsOptional()
  @IsString()
  @MaxLength(998)
  subject?: string;

  @IsString()
  @Length(1, 100000)
  body: string;
}

export class GateCheckDto {
  @ApiProperty({ enum: ['accepted', 'sending'] })
  at: string;
  allowed: boolean;
  @ApiProperty({
    nullable: true,
    type: String,
    enum: ['no_consent', 'withdrawn', 'do_not_contact', 'missing_address', 'pending_confirmation'],
  })
  reason: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The consent-log record relied on' })
  consentLogId: string | null;
  checkedAt: string;
}

export class MessageDto {
  id: string;
  contactId: string;
  @ApiProperty({ enum: CHANNELS })
  channel: string;
  @ApiProperty({ enum: CATEGORIES })
  category: string;
  @ApiProperty({ enum: ['queued', 'scheduled', 'sent', 'failed', 'suppressed'] })
  status: string;
  @ApiPropertyOptional({ description: 'Why it was suppressed (or failed)' })
  reason?: string;
  @ApiPropertyOptional({ description: 'When a message held by quiet hours goes out' })
  sendAt?: string;
  sentAt?: string;
  attempts: number;
  @ApiProperty({ type: [GateCheckDto] })
  checks: GateCheckDto[];
  createdAt: string;
}
