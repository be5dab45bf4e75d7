import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { RateLimiter } from '@app/platform';
import { EventsModule } from '@app/events';
import { ApiKeyGuard } from './api-key.guard';
import { ApiKeyRepository } from './api-key.repository';
import { ApiKeyService } from './api-key.service';
import { ApiKeysController } from './api-keys.controller';
import { TenantService } from './tenant.service';
import { TenantRepository } from './tenant.repository';
import { KeyMaterial } from './keys/key-material';
import { ServiceKeyRepository } from './service-key.repository';

/** Tenants, API keys and key material; no transport. */
@Module({
  imports: [EventsModule],
  providers: [
    ApiKeyRepository,
    ApiKeyService,
    TenantService,
    TenantRepository,
    KeyMaterial,
    ServiceKeyRepository,
  ],
  exports: [ApiKeyService, TenantService, TenantRepository, KeyMaterial, ServiceKeyRepository],
})
export class IdentityModule {}

/** Installs the API-key guard on every route of the application that imports it. */
@Module({
  imports: [IdentityModule],
  providers: [RateLimiter, ApiKeyGuard, { provide: APP_GUARD, useExisting: ApiKeyGuard }],
})
export class ApiAuthModule {}

/** The API-key routes, behind the guard. */
@Module({
  imports: [IdentityModule, ApiAuthModule],
  controllers: [ApiKeysController],
})
export class IdentityHttpModule {}
