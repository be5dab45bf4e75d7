import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, MaxLength, Min } from 'class-validator';
import { IsTimestamp, PageQuery } from '@app/platform';
import { CHAINS, ChainName } from '../audit-entry';

export class ChainQuery {
  @ApiPropertyOptional({ enum: CHAINS, default: 'main' })
  @IsOptional()
  @IsIn(CHAINS)
  chain: ChainName = 'main';
}

export class EntriesQuery extends PageQuery {
  @ApiPropertyOptional({ enum: CHAINS, default: 'main' })
  @IsOptional()
  @IsIn(CHAINS)
  chain: ChainName = 'main';

  @IsOptional()
  @IsString()
  @MaxLength(128)
  type?: string;

  @IsOptional()
  @IsString()
  @MaxLength(128)
  actorId?: string;

  @IsOptional()
  @IsString()
  @MaxLength(512)
  subject?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'occurredAt at or after' })
  @IsOptional()
  @IsTimestamp()
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'occurredAt before' })
  @IsOptional()
  @IsTimestamp()
  to?: string;
}

export class CheckpointsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: CHAINS, default: 'main' })
  @IsOptional()
  @IsIn(CHAINS)
  chain: ChainName = 'main';
}

export class ExportQuery {
  @ApiPropertyOptional({ enum: CHAINS, default: 'main' })
  @IsOptional()
  @IsIn(CHAINS)
  chain: ChainName = 'main';

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  fromSeq?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  toSeq?: number;
}
