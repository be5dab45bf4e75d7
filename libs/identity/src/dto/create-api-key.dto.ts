import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsString, Length } from 'class-validator';
import { SCOPES, Scope } from '@app/platform';

export class CreateApiKeyDto {
  @IsString()
  @Length(1, 128)
  name: string;

  @ApiProperty({ enum: SCOPES, isArray: true, minItems: 1, example: ['events:write'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(SCOPES.length)
  @IsIn(SCOPES, { each: true })
  scopes: Scope[];
}
