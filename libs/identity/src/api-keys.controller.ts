import { Body, Controller, Delete, HttpCode, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, AuthContext, RequireScope, UuidParam } from '@app/platform';
import { ApiKeyService } from './api-key.service';
import { CreateApiKeyDto } from './dto/create-api-key.dto';

@ApiTags('api-keys')
@Controller('v1/api-keys')
@RequireScope('admin')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeyService) {}

  @Post()
  create(@Auth() auth: AuthContext, @Body() dto: CreateApiKeyDto) {
    return this.keys.create(auth, dto.name, dto.scopes);
  }

  @Delete(':id')
  @HttpCode(204)
  async revoke(@Auth() auth: AuthContext, @UuidParam('id') id: string): Promise<void> {
    await this.keys.revoke(auth, id);
  }
}
