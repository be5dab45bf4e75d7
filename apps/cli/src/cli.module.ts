import { Module } from '@nestjs/common';
import { PlatformModule } from '@app/platform';
import { EventsModule } from '@app/events';
import { IdentityModule } from '@app/identity';

@Module({ imports: [PlatformModule, EventsModule, IdentityModule] })
export class CliModule {}
