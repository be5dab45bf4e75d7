import { Body, Controller, Get, HttpCode, Patch, Post, Put, Query, Req } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import {
  ApiPage,
  ApiProblems,
  Auth,
  AuthContext,
  PageQuery,
  pageById,
  Scoped,
  UuidParam,
} from '@app/platform';
import { ConsentService } from './consent.service';
import { ConsentActor } from './consent.types';
import {
  ConsentSettingsDto,
  CreateContactDto,
  DoNotContactDto,
  PatchContactDto,
  RecordConsentDto,
  RetentionSettingsDto,
} from './dto/consent.dto';
import {
  ConsentLogDto,
  ConsentRecordDto,
  ConsentSettingsViewDto,
  ConsentStatesDto,
  ContactDto,
  ErasureDto,
  PreferenceLinkDto,
  RetentionViewDto,
} from './dto/consent-responses.dto';

const ContactId = () => ApiParam({ name: 'id', format: 'uuid', description: 'The contact' });
const keyActor = (auth: AuthContext): ConsentActor => ({ type: 'api_key', id: auth.keyId });
const userAgentOf = (req: FastifyRequest) => {
  const ua = req.headers['user-agent'];
  return typeof ua === 'string' ? ua.slice(0, 1000) : null;
};

@ApiTags('contacts')
@Controller('v1/contacts')
export class ContactsController {
  constructor(private readonly consent: ConsentService) {}

  @Post()
  @Scoped('contacts:write')
  @ApiOperation({ summary: 'Create a contact (externalId unique per tenant)' })
  @ApiCreatedResponse({ type: ContactDto })
  @ApiProblems([400, 409, 413, 415], { 409: '`conflict`: the externalId is taken' })
  create(@Auth() auth: AuthContext, @Body() dto: CreateContactDto) {
    return this.consent.createContact(auth.tenantId, keyActor(auth), dto);
  }

  @Get()
  @Scoped('contacts:read')
  @ApiOperation({ summary: 'List contacts' })
  @ApiPage(ContactDto)
  @ApiProblems([400])
  list(@Auth() auth: AuthContext, @Query() q: PageQuery) {
    return pageById(q, (afterId, limit) =>
      this.consent.listContacts(auth.tenantId, afterId, limit),
    );
  }

  @Get(':id')
  @Scoped('contacts:read')
  @ApiOperation({ summary: 'One contact' })
  @ContactId()
  @ApiOkResponse({ type: ContactDto })
  @ApiProblems([404])
  get(@Auth() auth: AuthContext, @UuidParam('id') id: string) {
    return this.consent.getContact(auth.tenantId, id);
  }

  @Patch(':id')
  @Scoped('contacts:write')
  @ApiOperation({ summary: 'Change a contact; null clears an address' })
  @ContactId()
  @ApiOkResponse({ type: ContactDto })
  @ApiProblems([400, 404, 409, 413, 415], { 409: '`conflict`: externalId taken, or erased' })
  patch(@Auth() auth: AuthContext, @UuidParam('id') id: string, @Body() dto: PatchContactDto) {
    return this.consent.patchContact(auth.tenantId, id, keyActor(auth), dto);
  }

  @Post(':id/consents')
  @Scoped('contacts:write')
  @ApiOperation({ summary: "Append a consent change to the contact's log" })
  @ContactId()
  @ApiCreatedResponse({ type: ConsentRecordDto })
  @ApiProblems([400, 404, 409, 413, 415], { 409: '`conflict`: the contact was erased' })
  record(
    @Auth() auth: AuthContext,
    @UuidParam('id') id: string,
    @Body() dto: RecordConsentDto,
    @Req() req: FastifyRequest,
  ) {
    return this.consent.record(auth.tenantId, id, {
      channel: dto.channel,
      status: dto.status,
      source: dto.source,
      legalBasis: dto.legalBasis ?? null,
      evidence: dto.evidence ? { ...dto.evidence } : null,
      actor: keyActor(auth),
      ip: req.ip ?? null,
      userAgent: userAgentOf(req),
    });
  }

  @Get(':id/consents')
  @Scoped('contacts:read')
  @ApiOperation({ summary: "Each channel's current consent state" })
  @ContactId()
  @ApiOkResponse({ type: ConsentStatesDto })
  @ApiProblems([404])
  async states(@Auth() auth: AuthContext, @UuidParam('id') id: string) {
    const states = await this.consent.states(auth.tenantId, id);
    return Object.fromEntries(Object.entries(states).map(([ch, s]) => [ch, s.status]));
  }

  @Get(':id/consent-log')
  @Scoped('contacts:read')
  @ApiOperation({ summary: 'Every consent change, oldest first' })
  @ContactId()
  @ApiOkResponse({ type: ConsentLogDto })
  @ApiProblems([404])
  async consentLog(@Auth() auth: AuthContext, @UuidParam('id') id: string) {
    return { data: await this.consent.consentLog(auth.tenantId, id) };
  }

  @Put(':id/do-not-contact')
  @Scoped('contacts:write')
  @ApiOperation({ summary: 'Block (or unblock) every outbound message to the contact' })
  @ContactId()
  @ApiOkResponse({ type: ContactDto })
  @ApiProblems([400, 404, 409, 413, 415], { 409: '`conflict`: the contact was erased' })
  doNotContact(
    @Auth() auth: AuthContext,
    @UuidParam('id') id: string,
    @Body() dto: DoNotContactDto,
  ) {
    return this.consent.doNotContact(auth.tenantId, id, keyActor(auth), dto);
  }

  @Post(':id/preference-links')
  @Scoped('contacts:write')
  @ApiOperation({ summary: 'A signed, expiring link to the contact’s preference centre' })
  @ContactId()
  @ApiCreatedResponse({ type: PreferenceLinkDto })
  @ApiProblems([404])
  preferenceLink(@Auth() auth: AuthContext, @UuidParam('id') id: string) {
    return this.consent.preferenceLink(auth.tenantId, id);
  }

  @Post(':id/erase')
  @HttpCode(200)
  @Scoped('admin') // irreversible: a key that may only edit contacts cannot erase them
  @ApiOperation({ summary: "Erase the contact's personal data (contact, messages, raw events)" })
  @ContactId()
  @ApiOkResponse({ type: ErasureDto })
  @ApiProblems([404])
  erase(@Auth() auth: AuthContext, @UuidParam('id') id: string) {
    return this.consent.erase(auth.tenantId, id, keyActor(auth), 'api');
  }
}

@ApiTags('settings')
@Controller('v1/settings')
export class ConsentSettingsController {
  constructor(private readonly consent: ConsentService) {}

  @Get('consent')
  @Scoped('contacts:read')
  @ApiOperation({ summary: 'Consent mode, double opt-in, time zone and quiet hours' })
  @ApiOkResponse({ type: ConsentSettingsViewDto })
  @ApiProblems([404])
  get(@Auth() auth: AuthContext) {
    return this.consent.getSettings(auth.tenantId);
  }

  @Put('consent')
  @Scoped('admin')
  @ApiOperation({ summary: 'Set consent mode, double opt-in (forced in gdpr), quiet hours' })
  @ApiOkResponse({ type: ConsentSettingsViewDto })
  @ApiProblems([400, 413, 415])
  put(@Auth() auth: AuthContext, @Body() dto: ConsentSettingsDto) {
    return this.consent.putSettings(auth.tenantId, keyActor(auth), dto);
  }

  @Get('retention')
  @Scoped('admin')
  @ApiOperation({ summary: 'How long raw events and message bodies are kept' })
  @ApiOkResponse({ type: RetentionViewDto })
  @ApiProblems([404])
  getRetention(@Auth() auth: AuthContext) {
    return this.consent.getRetention(auth.tenantId);
  }

  @Put('retention')
  @Scoped('admin')
  @ApiOperation({ summary: 'Set retention; a daily job purges what is older (audit stays)' })
  @ApiOkResponse({ type: RetentionViewDto })
  @ApiProblems([400, 413, 415])
  putRetention(@Auth() auth: AuthContext, @Body() dto: RetentionSettingsDto) {
    return this.consent.putRetention(auth.tenantId, keyActor(auth), dto);
  }
}
