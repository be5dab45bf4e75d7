import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';
import { Clock, DomainError, IdGenerator } from '@app/platform';
import { PublishEventDto } from './dto/publish-event.dto';
import { EventIngestor, IngestAnswer } from './event-ingestor';
import { isReservedType, NewEvent } from './event-types';

/** A publisher's events, accepted together or not at all. */
export class PublishEventsCommand extends Command<IngestAnswer> {
  constructor(
    readonly tenantId: string,
    readonly events: PublishEventDto[],
    readonly shape: 'single' | 'batch',
    readonly idempotencyKey: string | undefined,
    /** The request as received, for idempotency comparison. */
    readonly rawBody: unknown,
  ) {
    super();
  }
}

@CommandHandler(PublishEventsCommand)
export class PublishEventsHandler implements ICommandHandler<PublishEventsCommand> {
  constructor(
    private readonly ingestor: EventIngestor,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  execute(cmd: PublishEventsCommand): Promise<IngestAnswer> {
    const receivedAt = this.clock.now();
    const events = cmd.events.map((dto, i) =>
      this.toEvent(cmd.tenantId, dto, receivedAt, i, cmd.shape),
    );
    const answer: IngestAnswer =
      cmd.shape === 'single'
        ? {
            status: 202,
            body: {
              id: events[0].id,
              type: events[0].type,
              status: 'accepted',
              receivedAt: receivedAt.toISOString(),
            },
          }
        : { status: 202, body: { ids: events.map((e) => e.id) } };
    const idempotency = cmd.idempotencyKey
      ? { key: cmd.idempotencyKey, requestHash: requestHash(cmd.shape, cmd.rawBody) }
      : undefined;
    return this.ingestor.ingest({ tenantId: cmd.tenantId, events, answer, idempotency });
  }

  private toEvent(
    tenantId: string,
    dto: PublishEventDto,
    receivedAt: Date,
    i: number,
    shape: string,
  ): NewEvent {
    const field = shape === 'batch' ? `events.${i}.type` : 'type';
    if (isReservedType(dto.type)) {
      throw new DomainError(
        'reserved_type',
        `The type ${dto.type} uses a prefix reserved for Ledgerline`,
        [{ field, message: 'reserved prefix' }],
      );
    }
    // Validated by the one timestamp rule (IsTimestamp): Date reads it exactly.
    const occurredAt = dto.occurredAt ? new Date(dto.occurredAt) : receivedAt;
    return {
      tenantId,
      id: this.ids.next(),
      type: dto.type,
      subject: dto.subject ?? null,
      actor: { type: dto.actor.type, id: dto.actor.id },
      actingAsTenantId: dto.actingAsTenantId ?? null,
      occurredAt,
      receivedAt,
      data: dto.data,
    };
  }
}

export function requestHash(shape: string, body: unknown): string {
  return createHash('sha256')
    .update(shape)
    .update('\n')
    .update(canonicalize(body) ?? '')
    .digest('hex');
}
