import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class DoNotContactStateDto {
  enabled: boolean;
  @ApiProperty({ nullable: true, type: String })
  reason: string | null;
}

export class ContactDto {
  id: string;
  externalId: string;
  @ApiProperty({ nullable: true, type: String })
  email: string | null;
  @ApiProperty({ nullable: true, type: String })
  phone: string | null;
  @ApiProperty({ nullable: true, type: String })
  whatsapp: string | null;
  @ApiProperty({ nullable: true, type: String })
  postalAddress: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'Europe/Berlin' })
  timeZone: string | null;
  doNotContact: DoNotContactStateDto;
  erased: boolean;
  createdAt: string;
  updatedAt: string;
}

const STATE = ['unknown', 'granted', 'withdrawn', 'denied', 'pending_confirmation'];

export class ConsentStatesDto {
  @ApiProperty({ enum: STATE })
  email: string;
  @ApiProperty({ enum: STATE })
  sms: string;
  @ApiProperty({ enum: STATE })
  whatsapp: string;
  @ApiProperty({ enum: STATE })
  phone: string;
  @ApiProperty({ enum: STATE })
  postal: string;
}

export class ConsentActorDto {
  @ApiProperty({ enum: ['api_key', 'user', 'contact', 'system'] })
  type: string;
  @ApiProperty({ nullable: true, type: String })
  id: string | null;
}

export class ConsentRecordDto {
  id: string;
  @ApiProperty({ enum: ['email', 'sms', 'whatsapp', 'phone', 'postal'] })
  channel: string;
  @ApiProperty({ enum: ['granted', 'withdrawn', 'denied', 'pending_confirmation'] })
  status: string;
  source: string;
  @ApiProperty({ nullable: true, type: String })
  legalBasis: string | null;
  @ApiProperty({ nullable: true, type: Object })
  evidence: Record<string, unknown> | null;
  actor: ConsentActorDto;
  @ApiProperty({ nullable: true, type: String })
  ip: string | null;
  @ApiProperty({ nullable: true, type: String })
  userAgent: string | null;
  recordedAt: string;
}

export class ConsentLogDto {
  @ApiProperty({ type: [ConsentRecordDto] })
  data: ConsentRecordDto[];
}

export class PreferenceLinkDto {
  url: string;
  expiresAt: string;
}

export class QuietHoursViewDto {
  start: string;
  end: string;
}

export class ConsentSettingsViewDto {
  @ApiProperty({ enum: ['standard', 'gdpr', 'ccpa'] })
  mode: string;
  doubleOptIn: boolean;
  timeZone: string;
  quietHours: QuietHoursViewDto;
}

export class RetentionViewDto {
  @ApiPropertyOptional({ nullable: true, type: Number })
  messagesDays: number | null;
  @ApiPropertyOptional({ nullable: true, type: Number })
  eventsDays: number | null;
}

export class ErasureDto {
  id: string;
  erased: boolean;
  erasedAt: string;
}
