import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsString, Length } from 'class-validator';
import { SCOPES, Scope } from '@app/platform';

export class CreateApiKeyDto {
  @IsString()
  @Length(1, 128)
  name: string;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(SCOPES.length)
  @IsIn(SCOPES, { each: true })
  scopes: Scope[];
}
