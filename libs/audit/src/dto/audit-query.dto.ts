import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, MaxLength, Min } from 'class-validator';
import { IsTimestamp, PageQuery } from '@app/platform';
import { CHAINS, ChainName } from '../audit-entry';

export class ChainQuery {
  @IsOptional()
  @IsIn(CHAINS)
  chain: ChainName = 'main';
}

export class EntriesQuery extends PageQuery {
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

  @IsOptional()
  @IsTimestamp()
  from?: string;

  @IsOptional()
  @IsTimestamp()
  to?: string;
}

export class CheckpointsQuery extends PageQuery {
  @IsOptional()
  @IsIn(CHAINS)
  chain: ChainName = 'main';
}

export class ExportQuery {
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
