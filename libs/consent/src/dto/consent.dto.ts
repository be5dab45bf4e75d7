import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsDefined,
  IsEmail,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsTimeZone,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import {
  CHANNELS,
  Channel,
  ConsentMode,
  MODES,
  RECORDABLE_STATUSES,
  RecordableStatus,
} from '../consent.types';

const PHONE = /^\+?[0-9][0-9 ().-]{2,31}$/;
const HH_MM = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;
const notNull = (_: object, v: unknown) => v !== null && v !== undefined;

export class CreateContactDto {
  @IsString()
  @Length(1, 256)
  externalId: string;

  @IsOptional()
  @IsString()
  @MaxLength(320)
  @IsEmail()
  email?: string;

  @IsOptional()
  @IsString()
  @Matches(PHONE, { message: 'phone must be a phone number like +4930123456' })
  phone?: string;

  @IsOptional()
  @IsString()
  @Matches(PHONE, { message: 'whatsapp must be a phone number like +4930123456' })
  whatsapp?: string;

  @IsOptional()
  @IsString()
  @Length(1, 1000)
  postalAddress?: string;

  @ApiPropertyOptional({ example: 'Europe/Berlin', description: 'An IANA time zone name' })
  @IsOptional()
  @IsString()
  @IsTimeZone({ message: 'timeZone must be an IANA time zone name such as Europe/Berlin' })
  timeZone?: string;
}

/** PATCH: only the fields given change; null clears an address or the time zone. */
export class PatchContactDto {
  @IsOptional()
  @IsString()
  @Length(1, 256)
  externalId?: string;

  @ApiPropertyOptional({ nullable: true })
  @ValidateIf(notNull)
  @IsString()
  @MaxLength(320)
  @IsEmail()
  email?: string | null;

  @ApiPropertyOptional({ nullable: true })
  @ValidateIf(notNull)
  @IsString()
  @Matches(PHONE, { message: 'phone must be a phone number like +4930123456' })
  phone?: string | null;

  @ApiPropertyOptional({ nullable: true })
  @ValidateIf(notNull)
  @IsString()
  @Matches(PHONE, { message: 'whatsapp must be a phone number like +4930123456' })
  whatsapp?: string | null;

  @ApiPropertyOptional({ nullable: true })
  @ValidateIf(notNull)
  @IsString()
  @Length(1, 1000)
  postalAddress?: string | null;

  @ApiPropertyOptional({ nullable: true, example: 'Europe/Berlin' })
  @ValidateIf(notNull)
  @IsString()
  @IsTimeZone({ message: 'timeZone must be an IANA time zone name such as Europe/Berlin' })
  timeZone?: string | null;
}

export class EvidenceDto {
  @IsOptional()
  @IsString()
  @MaxLength(64)
  ip?: string;

  @IsOptional()
  @IsString()
  @MaxLength(1000)
  userAgent?: string;

  @IsOptional()
  @IsString()
  @MaxLength(10000)
  text?: string;

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  url?: string;

  @ApiPropertyOptional({ description: 'The version of the consent text the contact saw' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  noticeVersion?: string;
}

export class RecordConsentDto {
  @IsIn(CHANNELS)
  channel: Channel;

  @IsIn(RECORDABLE_STATUSES)
  status: RecordableStatus;

  @IsString()
  @Length(1, 64)
  source: string;

  @ApiPropertyOptional({ example: 'consent', description: 'Required for a grant in gdpr mode' })
  @IsOptional()
  @IsString()
  @Length(1, 128)
  legalBasis?: string;

  @ApiPropertyOptional({ description: 'Required for a grant in gdpr mode' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => EvidenceDto)
  evidence?: EvidenceDto;
}

export class DoNotContactDto {
  @IsBoolean()
  enabled: boolean;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export class QuietHoursDto {
  @ApiPropertyOptional({ example: '21:00' })
  @IsString()
  @Matches(HH_MM, { message: 'start must be HH:MM' })
  start: string;

  @ApiPropertyOptional({ example: '08:00' })
  @IsString()
  @Matches(HH_MM, { message: 'end must be HH:MM' })
  end: string;
}

export class ConsentSettingsDto {
  @IsIn(MODES)
  mode: ConsentMode;

  @IsBoolean()
  doubleOptIn: boolean;

  @ApiPropertyOptional({ example: 'Europe/Berlin', default: 'UTC' })
  @IsOptional()
  @IsString()
  @IsTimeZone({ message: 'timeZone must be an IANA time zone name such as Europe/Berlin' })
  timeZone?: string;

  @IsOptional()
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => QuietHoursDto)
  quietHours?: QuietHoursDto;
}

export class RetentionSettingsDto {
  @ApiPropertyOptional({
    nullable: true,
    description: 'Days to keep message bodies; null: forever',
  })
  @ValidateIf(notNull)
  @IsInt()
  @Min(1)
  @Max(36500)
  messagesDays: number | null;

  @ApiPropertyOptional({ nullable: true, description: 'Days to keep raw events; null: forever' })
  @ValidateIf(notNull)
  @IsInt()
  @Min(1)
  @Max(36500)
  eventsDays: number | null;
}
