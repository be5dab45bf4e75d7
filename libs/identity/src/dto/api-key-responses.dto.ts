import { ApiProperty } from '@nestjs/swagger';
import { SCOPES, Scope } from '@app/platform';

/** 201 for POST /v1/api-keys: the key is shown here only, once. */
export class CreatedApiKeyDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ description: 'The API key itself; only its hash is kept' })
  key: string;

  @ApiProperty({ enum: SCOPES, isArray: true })
  scopes: Scope[];
}
