import { CreateIdentity1764000000001, CreateServiceKeys1764000000003 } from '@app/identity';
import { CreateEventStore1764000000002 } from '@app/events';
import { AuditSigningKeys1764000000041, CreateAudit1764000000004 } from '@app/audit';
import {
  CreateWebhooks1764000000005,
  EndpointSlowLane1764000000006,
  EndpointStartPosition1764000001005,
  DeliveriesDueIndex1764000001006,
} from '@app/webhooks';
import { AiSettingsRowPerTenant1764000001051, CreateAiActions1764000000051 } from '@app/approvals';
import { CreateConsent1764000000061 } from '@app/consent';
import { CreateMessages1764000000062 } from '@app/messaging';
import { CreatePeople1764000000071 } from '@app/people';
import { CreateApproverNotices1764000000072 } from '@app/console';

/** Every migration, in order. Each capability owns its own; this list composes them. */
export const ALL_MIGRATIONS = [
  CreateIdentity1764000000001,
  CreateEventStore1764000000002,
  CreateServiceKeys1764000000003,
  CreateAudit1764000000004,
  CreateWebhooks1764000000005,
  EndpointSlowLane1764000000006,
  AuditSigningKeys1764000000041,
  CreateAiActions1764000000051,
  CreateConsent1764000000061,
  CreateMessages1764000000062,
  EndpointStartPosition1764000001005,
  DeliveriesDueIndex1764000001006,
  AiSettingsRowPerTenant1764000001051,
  CreatePeople1764000000071,
  CreateApproverNotices1764000000072,
];

export const ALL_MIGRATION_NAMES = ALL_MIGRATIONS.map((m) => new m().name);
