import { Body, Controller, Delete, HttpCode, Post } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { ApiProblems, Auth, AuthContext, Scoped, UuidParam } from '@app/platform';
import { ApiKeyService } from './api-key.service';
import { CreateApiKeyDto } from './dto/create-api-key.dto';
import { CreatedApiKeyDto } from './dto/api-key-responses.dto';

@ApiTags('api-keys')
@Controller('v1/api-keys')
@Scoped('admin')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeyService) {}

  @Post()
  @ApiOperation({ summary: 'Create an API key for this tenant (shown once)' })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  @ApiProblems([400, 413, 415])
  create(@Auth() auth: AuthContext, @Body() dto: CreateApiKeyDto) {
    return this.keys.create(auth, dto.name, dto.scopes);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API key' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiProblems([404])
  async revoke(@Auth() auth: AuthContext, @UuidParam('id') id: string): Promise<void> {
    await this.keys.revoke(auth, id);
  }
}
