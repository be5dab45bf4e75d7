import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CHAINS, ChainName } from '../audit-entry';

const HEX64 = { pattern: '^[0-9a-f]{64}$', example: '0'.repeat(64) };

export class AuditActorDto {
  @ApiProperty({ enum: ['user', 'service', 'ai_agent', 'system'] })
  type: string;
  id: string;
}

/** An entry as the API and the export show it (SPEC 4); `hash` can be recomputed from it. */
export class AuditEntryDto {
  @ApiProperty({ minimum: 1 })
  seq: number;
  @ApiProperty({ enum: CHAINS })
  chain: ChainName;
  @ApiProperty({ format: 'uuid' })
  tenantId: string;
  @ApiProperty({ format: 'uuid' })
  eventId: string;
  type: string;
  subject: string | null;
  actor: AuditActorDto;
  actingAsTenantId: string | null;
  /** The event's data with personal data redacted */
  data: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' })
  occurredAt: string;
  @ApiProperty({ format: 'date-time' })
  recordedAt: string;
  @ApiProperty(HEX64)
  prevHash: string;
  @ApiProperty(HEX64)
  hash: string;
}

export class ChainHeadDto {
  seq: number;
  @ApiProperty(HEX64)
  hash: string;
}

export class ChainBreakDto {
  seq: number;
  @ApiProperty({
    enum: ['hash_mismatch', 'prev_hash_mismatch', 'sequence_gap', 'checkpoint_mismatch'],
  })
  reason: string;
}

/** `{ok: true, head}` when intact, `{ok: false, firstBreak}` at the first break in seq order. */
export class VerifyResultDto {
  ok: boolean;
  @ApiProperty({ enum: CHAINS })
  chain: ChainName;
  /** How many entries were checked */
  entries: number;
  @ApiPropertyOptional({ type: ChainHeadDto, description: 'When ok' })
  head?: ChainHeadDto;
  @ApiPropertyOptional({ type: ChainBreakDto, description: 'When not ok' })
  firstBreak?: ChainBreakDto;
}

export class CheckpointDto {
  @ApiProperty({ format: 'uuid' })
  tenantId: string;
  @ApiProperty({ enum: CHAINS })
  chain: ChainName;
  seq: number;
  @ApiProperty(HEX64)
  hash: string;
  @ApiProperty({ format: 'date-time' })
  signedAt: string;
  /** base64 Ed25519 signature of JCS({tenantId, chain, seq, hash, signedAt}) */
  signature: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Lowercase hex SHA-256 of the signing key (SPKI DER)',
  })
  keyId: string | null;
}

export class PublicKeyDto {
  /** PEM, SPKI */
  publicKey: string;
  keyId: string;
}

export class SigningKeyDto {
  keyId: string;
  /** PEM, SPKI */
  publicKey: string;
  @ApiProperty({ format: 'date-time' })
  firstUsedAt: string;
}

export class PublicKeysDto {
  @ApiProperty({ type: [SigningKeyDto] })
  data: SigningKeyDto[];
}
