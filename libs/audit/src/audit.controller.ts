import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Transform } from 'node:stream';
import {
  ApiPage,
  ApiProblems,
  ApiPublic,
  Auth,
  AuthContext,
  decodeCursor,
  DomainError,
  encodeCursor,
  Public,
  Scoped,
  toPage,
} from '@app/platform';
import { AuditChainVerifier } from './audit-chain-verifier';
import { AuditEntryRow, fromRow } from './audit-entry';
import { AuditEntryRepository } from './audit-entry.repository';
import { CheckpointService } from './checkpoint.service';
import { InFlightLimit } from './in-flight-limit';
import { AuditSigningKeys } from './keys/audit-signing-keys';
import { ChainQuery, CheckpointsQuery, EntriesQuery, ExportQuery } from './dto/audit-query.dto';
import {
  AuditEntryDto,
  CheckpointDto,
  PublicKeyDto,
  PublicKeysDto,
  VerifyResultDto,
} from './dto/audit-responses.dto';

const seqCursor = (cursor: string | undefined) =>
  cursor === undefined
    ? undefined
    : decodeCursor<{ seq: number }>(
        cursor,
        (v) => Number.isSafeInteger(v.seq) && (v.seq as number) >= 0,
      ).seq;

/** Each export holds a pooled connection while it streams: a few at a time per process. */
const MAX_CONCURRENT_EXPORTS = 3;
/** Each verify hashes the whole chain (yielding between slices): two at a time per process. */
const MAX_CONCURRENT_VERIFIES = 2;

@ApiTags('audit')
@Controller('v1/audit')
export class AuditController {
  private readonly exports = new InFlightLimit(MAX_CONCURRENT_EXPORTS, 'exports');
  private readonly verifies = new InFlightLimit(MAX_CONCURRENT_VERIFIES, 'verifies');

  constructor(
    private readonly repo: AuditEntryRepository,
    private readonly verifier: AuditChainVerifier,
    private readonly checkpoints: CheckpointService,
    private readonly keys: AuditSigningKeys,
  ) {}

  @Get('entries')
  @Scoped('audit:read')
  @ApiOperation({ summary: 'Entries of a chain, newest first' })
  @ApiPage(AuditEntryDto)
  @ApiProblems([400])
  async list(@Auth() auth: AuthContext, @Query() q: EntriesQuery) {
    const rows = await this.repo.list(
      auth.tenantId,
      q.chain,
      {
        type: q.type,
        actorId: q.actorId,
        subject: q.subject,
        from: q.from ? new Date(q.from) : undefined,
        to: q.to ? new Date(q.to) : undefined,
        beforeSeq: seqCursor(q.cursor),
      },
      q.limit + 1,
    );
    return toPage(rows, q.limit, fromRow, (r: AuditEntryRow) => encodeCursor({ seq: r.seq }));
  }

  @Get('entries/:seq')
  @Scoped('audit:read')
  @ApiOperation({ summary: 'One entry by its seq' })
  @ApiParam({ name: 'seq', schema: { type: 'integer', minimum: 1 } })
  @ApiOkResponse({ type: AuditEntryDto })
  @ApiProblems([400, 404])
  async get(@Auth() auth: AuthContext, @Param('seq') seq: string, @Query() q: ChainQuery) {
    const n = /^[1-9][0-9]{0,15}$/.test(seq) ? Number(seq) : NaN;
    if (!Number.isSafeInteger(n)) throw DomainError.notFound('Audit entry');
    const row = await this.repo.get(auth.tenantId, q.chain, n);
    if (!row) throw DomainError.notFound('Audit entry');
    return fromRow(row);
  }

  @Get('verify')
  @Scoped('audit:read')
  @ApiOperation({ summary: 'Recompute every hash and check the chain against its checkpoints' })
  @ApiOkResponse({ type: VerifyResultDto })
  @ApiProblems([400])
  verify(@Auth() auth: AuthContext, @Query() q: ChainQuery) {
    return this.verifies.run(() => this.verifier.verify(auth.tenantId, q.chain));
  }

  @Get('checkpoints')
  @Scoped('audit:read')
  @ApiOperation({ summary: 'Signed checkpoints of a chain, oldest first' })
  @ApiPage(CheckpointDto)
  @ApiProblems([400])
  async listCheckpoints(@Auth() auth: AuthContext, @Query() q: CheckpointsQuery) {
    const after = seqCursor(q.cursor) ?? 0;
    const rows = await this.checkpoints.list(auth.tenantId, q.chain, after, q.limit + 1);
    return toPage(
      rows,
      q.limit,
      (c) => c,
      (c) => encodeCursor({ seq: c.seq }),
    );
  }

  @Public()
  @Get('public-key')
  @ApiOperation({ summary: 'The current checkpoint signing key (public)' })
  @ApiOkResponse({ type: PublicKeyDto })
  @ApiPublic()
  async publicKey() {
    const { publicKeyPem, keyId } = await this.keys.current();
    return { publicKey: publicKeyPem, keyId };
  }

  /** Every key that ever signed a checkpoint, so checkpoints from before a rotation verify. */
  @Public()
  @Get('public-keys')
  @ApiOperation({ summary: 'Every key that ever signed a checkpoint (public)' })
  @ApiOkResponse({ type: PublicKeysDto })
  @ApiPublic()
  async publicKeys() {
    return { data: await this.keys.list() };
  }

  /** NDJSON, one entry a line in seq order, streamed from a database cursor. */
  @Get('export')
  @Scoped('audit:read')
  @ApiOperation({ summary: 'Stream a chain as NDJSON, one entry a line, in seq order' })
  @ApiProduces('application/x-ndjson')
  @ApiOkResponse({
    description: 'One AuditEntry JSON object per line',
    content: {
      'application/x-ndjson': {
        schema: { $ref: '#/components/schemas/AuditEntryDto' },
      },
    },
  })
  @ApiProblems([400])
  async export(@Auth() auth: AuthContext, @Query() q: ExportQuery, @Res() reply: FastifyReply) {
    const done = this.exports.enter();
    try {
      await this.streamExport(auth, q, reply, done);
    } catch (err) {
      done();
      throw err;
    }
  }

  private async streamExport(
    auth: AuthContext,
    q: ExportQuery,
    reply: FastifyReply,
    done: () => void,
  ) {
    const { rows, release } = await this.repo.stream(
      auth.tenantId,
      q.chain,
      q.fromSeq ?? 1,
      q.toSeq ?? null,
    );
    const lines = new Transform({
      writableObjectMode: true,
      transform(row: AuditEntryRow, _enc, done) {
        done(null, `${JSON.stringify(fromRow(row))}\n`);
      },
    });
    rows.on('error', (err) => lines.destroy(err));
    lines.on('close', () => {
      done();
      rows.destroy();
      release();
    });
    rows.pipe(lines);
    reply.header('content-type', 'application/x-ndjson').send(lines);
  }
}
