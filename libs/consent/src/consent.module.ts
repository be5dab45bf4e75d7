import { Module, OnModuleInit } from '@nestjs/common';
import { EventsModule } from '@app/events';
import { IdentityModule } from '@app/identity';
import { ConsentGate } from './consent-gate';
import { ConsentGateReader } from './consent-gate-reader';
import { ConsentLinks } from './consent-links';
import { ConsentLogRepository } from './consent-log.repository';
import { ConsentSettingsRepository } from './consent-settings.repository';
import { ConsentService } from './consent.service';
import { ContactRepository } from './contact.repository';
import { ErasureRegistry } from './erasure-registry';
import { RawEventEraser } from './personal-data.repository';
import { ConsentSettingsController, ContactsController } from './contacts.controller';
import { PreferenceCentreController } from './preference-centre.controller';
import { ConfirmationMailer, RetentionPurger } from './consent.processors';

const CORE = [
  ContactRepository,
  ConsentLogRepository,
  ConsentSettingsRepository,
  ConsentService,
  ConsentLinks,
  ConsentGateReader,
  ErasureRegistry,
  RawEventEraser,
];

/**
 * Contacts, the consent log, settings, do-not-contact, signed links, erasure and the ConsentGate
 * (which messaging asks before every send); no transport.
 */
@Module({
  imports: [EventsModule, IdentityModule],
  providers: [
    ...CORE,
    {
      provide: ConsentGate,
      useFactory: (reader: ConsentGateReader) => new ConsentGate(reader),
      inject: [ConsentGateReader],
    },
  ],
  exports: [...CORE, ConsentGate],
})
export class ConsentModule implements OnModuleInit {
  constructor(
    private readonly erasure: ErasureRegistry,
    private readonly rawEvents: RawEventEraser,
  ) {}

  onModuleInit(): void {
    this.erasure.register(this.rawEvents);
  }
}

/** `/v1/contacts`, `/v1/settings/consent|retention` and the contacts' public pages. */
@Module({
  imports: [ConsentModule, IdentityModule],
  controllers: [ContactsController, ConsentSettingsController, PreferenceCentreController],
})
export class ConsentHttpModule {}

/** Double opt-in mails and the retention purge. */
@Module({
  imports: [ConsentModule],
  providers: [ConfirmationMailer, RetentionPurger],
})
export class ConsentWorkerModule {}
