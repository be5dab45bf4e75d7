import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import {
  Clock,
  DomainError,
  ExpiringMemo,
  grants,
  Public,
  Scope,
  UUID_PATTERN,
} from '@app/platform';
import { EVENT_TYPE_PATTERN } from '@app/events';
import { AiActionService, RISKS, Risk } from '@app/approvals';
import {
  AuditChainVerifier,
  AuditEntryRepository,
  ChainName,
  CheckpointService,
  fromRow,
  VerifyResult,
} from '@app/audit';
import { toEndpointView, WebhookDeliveryService, WebhookEndpointService } from '@app/webhooks';
import {
  authContextOf,
  MIN_PASSWORD_LENGTH,
  SessionAuth,
  SessionRequest,
  UserService,
} from '@app/people';
import { ASSETS, CONSOLE_CSP, etagOf } from './assets';
import { SafeHtml } from './html';
import { accountPage } from './pages/account.page';
import { actionPage, ActionPageState } from './pages/action.page';
import { auditPage } from './pages/audit.page';
import { PageUser } from './pages/layout';
import { loginPage } from './pages/login.page';
import { QueueFilter, queuePage, queueRows } from './pages/queue.page';
import { endpointPage, webhooksPage } from './pages/webhooks.page';

/** One page of the queue: the first page renders fast whatever the queue's length. */
export const QUEUE_PAGE_SIZE = 50;
const ENTRIES_PAGE_SIZE = 50;
/** How long a console verify result is shown again instead of walking the chain once more. */
const VERIFY_CACHE_MS = 10_000;

type Form = Record<string, string | undefined>;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * The id a console path names, lower-cased. Anything but a UUID cannot name a `what`, so it is
 * answered as a missing one (404) before any query.
 */
function pathId(id: string, what: string): string {
  if (!UUID_PATTERN.test(id)) throw DomainError.notFound(what);
  return id.toLowerCase();
}

function pageUser(s: SessionAuth): PageUser {
  const can = (scope: Scope) => grants(s.scopes, [scope]);
  return {
    email: s.email,
    role: s.role,
    csrfToken: s.csrfToken,
    canDecide: can('ai-actions:decide'),
    canManageWebhooks: can('webhooks:manage'),
    canReadAudit: can('audit:read'),
  };
}

function queueFilter(q: Record<string, unknown>): QueueFilter {
  const risk = str(q.risk);
  const type = str(q.type)?.trim();
  return {
    risk: RISKS.includes(risk as Risk) ? (risk as Risk) : undefined,
    type: type && type.length <= 128 && EVENT_TYPE_PATTERN.test(type) ? type : undefined,
  };
}

/**
 * The approvers' console: server-rendered pages over the same domain services the API uses.
 * Every page needs a signed-in session (the session hook sets it; without one, the browser goes
 * to the sign-in page); every form that changes something carries the session's CSRF token,
 * which the hook checks before any handler runs.
 */
@ApiExcludeController()
@Public()
@Controller('console')
export class ConsoleController {
  // `?verify=1` walks a whole chain: one run per tenant and chain at a time, reused for
  // VERIFY_CACHE_MS, so repeating the link (or many users at once) costs at most one full
  // verification per tenant and chain every ten seconds per process.
  private readonly verifies: ExpiringMemo<VerifyResult>;

  constructor(
    private readonly actions: AiActionService,
    private readonly entries: AuditEntryRepository,
    private readonly verifier: AuditChainVerifier,
    private readonly checkpoints: CheckpointService,
    private readonly endpoints: WebhookEndpointService,
    private readonly deliveries: WebhookDeliveryService,
    private readonly users: UserService,
    private readonly clock: Clock,
  ) {
    this.verifies = new ExpiringMemo(() => this.clock.now().getTime(), VERIFY_CACHE_MS);
  }

  private send(reply: FastifyReply, body: SafeHtml | string, status = 200): void {
    void reply
      .status(status)
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', CONSOLE_CSP)
      .header('cache-control', 'no-store')
      .send(typeof body === 'string' ? body : body.value);
  }

  /** The session, or null after sending the browser to sign in (coming back here after). */
  private signedIn(req: SessionRequest, reply: FastifyReply): SessionAuth | null {
    if (req.session) return req.session;
    const path = (req.url ?? '/console').split('?')[0];
    const next = /^\/console(\/[A-Za-z0-9/_-]*)?$/.test(path) ? path : '/console';
    void reply
      .status(303)
      .header('location', `/console/login?next=${encodeURIComponent(next)}`)
      .header('cache-control', 'no-store')
      .send('');
    return null;
  }

  private require(s: SessionAuth, scope: Scope): void {
    if (!grants(s.scopes, [scope])) {
      throw new DomainError('insufficient_scope', `Your role (${s.role}) may not do this`);
    }
  }

  @Get('static/:file')
  asset(@Param('file') file: string, @Req() req: SessionRequest, @Res() reply: FastifyReply) {
    const asset = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
    if (!asset) throw DomainError.notFound('File');
    void reply
      .header('content-type', asset.type)
      .header('cache-control', 'no-cache')
      .header('etag', asset.etag);
    if (req.headers['if-none-match'] === asset.etag) return void reply.status(304).send();
    void reply.send(asset.body);
  }

  @Get('login')
  login(@Query() q: Record<string, unknown>, @Res() reply: FastifyReply) {
    const next = str(q.next);
    const error = str(q.error);
    this.send(
      reply,
      loginPage({
        error: error === 'locked' ? 'locked' : error ? 'bad' : undefined,
        next: next && /^\/console(\/[A-Za-z0-9/_-]*)?$/.test(next) ? next : undefined,
      }),
    );
  }

  @Get()
  async queue(
    @Query() q: Record<string, unknown>,
    @Req() req: SessionRequest,
    @Res() reply: FastifyReply,
  ) {
    const s = this.signedIn(req, reply);
    if (!s) return;
    const f = queueFilter(q);
    const after = str(q.after);
    const afterId = after && UUID_PATTERN.test(after) ? after.toLowerCase() : null;
    const rows = await this.pending(s.tenantId, f, afterId);
    const shown = rows.slice(0, QUEUE_PAGE_SIZE);
    const next = rows.length > QUEUE_PAGE_SIZE ? shown[shown.length - 1].id : null;
    this.send(reply, queuePage(pageUser(s), f, shown, next, afterId !== null, this.clock.now()));
  }

  /** The open queue's rows, for the page's live poll (ETag: a 304 when nothing changed). */
  @Get('queue/rows')
  async rows(
    @Query() q: Record<string, unknown>,
    @Req() req: SessionRequest,
    @Res() reply: FastifyReply,
  ) {
    if (!req.session) throw new DomainError('unauthorized', 'Sign in again');
    const rows = await this.pending(req.session.tenantId, queueFilter(q), null);
    const shown = rows.slice(0, QUEUE_PAGE_SIZE);
    const body = queueRows(shown, rows.length > QUEUE_PAGE_SIZE, this.clock.now()).value;
    const etag = etagOf(body);
    void reply.header('etag', etag).header('cache-control', 'no-cache');
    if (req.headers['if-none-match'] === etag) {
      void reply.status(304).send();
      return;
    }
    this.send(reply, body);
  }

  private pending(tenantId: string, f: QueueFilter, afterId: string | null) {
    return this.actions.list(
      tenantId,
      { status: 'pending_approval', risk: f.risk, type: f.type },
      afterId,
      QUEUE_PAGE_SIZE + 1,
    );
  }

  @Get('actions/:id')
  async action(
    @Param('id') id: string,
    @Query() q: Record<string, unknown>,
    @Req() req: SessionRequest,
    @Res() reply: FastifyReply,
  ) {
    const s = this.signedIn(req, reply);
    if (!s) return;
    const detail = await this.actions.get(s.tenantId, pathId(id, 'AI action'));
    const decided = str(q.decided);
    const state: ActionPageState = {
      decided: decided === 'approve' || decided === 'reject' ? decided : undefined,
    };
    this.send(reply, actionPage(pageUser(s), s.userId, detail, state));
  }

  /**
   * A decision from the action page: it carries the inputHash of the input shown, so a revised
   * action is shown again (409, nothing recorded) instead of being decided blind.
   */
  @Post('actions/:id/decision')
  async decide(
    @Param('id') id: string,
    @Body() form: Form,
    @Req() req: SessionRequest,
    @Res() reply: FastifyReply,
  ) {
    const s = this.signedIn(req, reply);
    if (!s) return;
    const actionId = pathId(id, 'AI action');
    this.require(s, 'ai-actions:decide');
    const decision = str(form?.decision);
    const reason = str(form?.reason)?.trim() || undefined;
    const inputHash = str(form?.inputHash);
    if (decision !== 'approve' && decision !== 'reject') {
      throw DomainError.invalid('decision', 'must be approve or reject');
    }
    if (!inputHash || !/^[0-9a-f]{64}$/.test(inputHash)) {
      throw DomainError.invalid('inputHash', 'must be the hash of the input shown');
    }
    // Nothing was recorded: the page is shown again (as it is now) with what went wrong. It
    // answers 200, as a page the browser shows; the API's error answers are problem+json.
    const rerender = async (_status: number, state: ActionPageState) => {
      const detail = await this.actions.get(s.tenantId, actionId);
      this.send(reply, actionPage(pageUser(s), s.userId, detail, state));
    };
    if (reason && reason.length > 2000) {
      return rerender(400, { error: 'The reason may be at most 2,000 characters.', reason });
    }
    if (decision === 'reject' && !reason) {
      return rerender(400, { error: 'A rejection needs a reason.', reason });
    }
    try {
      await this.actions.decide(authContextOf(s), actionId, { decision, reason, inputHash });
    } catch (err) {
      if (!(err instanceof DomainError) || err.code === 'not_found') throw err;
      if (err.code === 'input_changed') return rerender(409, { revised: true, reason });
      return rerender(err.status, { error: err.message, reason });
    }
    void reply
      .status(303)
      .header('location', `/console/actions/${actionId}?decided=${decision}`)
      .send('');
  }

  @Get('audit')
  async audit(
    @Query() q: Record<string, unknown>,
    @Req() req: SessionRequest,
    @Res() reply: FastifyReply,
  ) {
    const s = this.signedIn(req, reply);
    if (!s) return;
    this.require(s, 'audit:read');
    const chain: ChainName = str(q.chain) === 'ai' ? 'ai' : 'main';
    const type = str(q.type)?.trim().slice(0, 128) || undefined;
    const subject = str(q.subject)?.trim().slice(0, 256) || undefined;
    const beforeRaw = str(q.before);
    const before =
      beforeRaw && /^[1-9][0-9]{0,15}$/.test(beforeRaw) ? Number(beforeRaw) : undefined;
    const [head, checkpoint, rows] = await Promise.all([
      this.entries.head(s.tenantId, chain),
      this.checkpoints.latest(s.tenantId, chain),
      this.entries.list(
        s.tenantId,
        chain,
        { type, subject, beforeSeq: before },
        ENTRIES_PAGE_SIZE + 1,
      ),
    ]);
    let verify: VerifyResult | null = null;
    if (str(q.verify) === '1') {
      // One run per tenant and chain every few seconds, however often the link is followed.
      verify = await this.verifies.get(`${s.tenantId}:${chain}`, () =>
        this.verifier.verify(s.tenantId, chain),
      );
    }
    const shown = rows.slice(0, ENTRIES_PAGE_SIZE).map(fromRow);
    const nextBefore = rows.length > ENTRIES_PAGE_SIZE ? shown[shown.length - 1].seq : null;
    this.send(
      reply,
      auditPage(
        pageUser(s),
        { chain, type, subject },
        { head, checkpoint, verify },
        shown,
        nextBefore,
      ),
    );
  }

  @Get('webhooks')
  async webhooks(@Req() req: SessionRequest, @Res() reply: FastifyReply) {
    const s = this.signedIn(req, reply);
    if (!s) return;
    this.require(s, 'webhooks:manage');
    const list = await this.endpoints.list(authContextOf(s), null, 200);
    this.send(reply, webhooksPage(pageUser(s), list.map(toEndpointView)));
  }

  @Get('webhooks/:id')
  async endpoint(
    @Param('id') id: string,
    @Query() q: Record<string, unknown>,
    @Req() req: SessionRequest,
    @Res() reply: FastifyReply,
  ) {
    const s = this.signedIn(req, reply);
    if (!s) return;
    this.require(s, 'webhooks:manage');
    const endpointId = pathId(id, 'Webhook endpoint');
    const auth = authContextOf(s);
    const endpoint = await this.endpoints.get(auth, endpointId);
    const page = await this.deliveries.list(auth, endpoint.id, undefined, null, 20);
    const done = str(q.done);
    const message =
      done === 'enabled'
        ? { kind: 'ok' as const, text: 'The endpoint is enabled; its waiting deliveries are sent.' }
        : done === 'recovered'
          ? { kind: 'ok' as const, text: `Recovery started: ${str(q.n) ?? '0'} deliveries queued.` }
          : undefined;
    this.send(reply, endpointPage(pageUser(s), endpoint, page.data, message));
  }

  @Post('webhooks/:id/enable')
  async enable(@Param('id') id: string, @Req() req: SessionRequest, @Res() reply: FastifyReply) {
    const s = this.signedIn(req, reply);
    if (!s) return;
    this.require(s, 'webhooks:manage');
    const endpointId = pathId(id, 'Webhook endpoint');
    await this.endpoints.enable(authContextOf(s), endpointId);
    await this.deliveries.enqueueDue(s.tenantId, endpointId);
    void reply
      .status(303)
      .header('location', `/console/webhooks/${endpointId}?done=enabled`)
      .send('');
  }

  @Post('webhooks/:id/recover')
  async recover(
    @Param('id') id: string,
    @Body() form: Form,
    @Req() req: SessionRequest,
    @Res() reply: FastifyReply,
  ) {
    const s = this.signedIn(req, reply);
    if (!s) return;
    this.require(s, 'webhooks:manage');
    const endpointId = pathId(id, 'Webhook endpoint');
    const raw = str(form?.since) ?? '';
    // datetime-local sends "YYYY-MM-DDTHH:MM" (taken as UTC); a full timestamp is accepted too.
    const since = new Date(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(raw) ? `${raw}:00Z` : raw);
    if (!raw || Number.isNaN(since.getTime()) || raw.length > 40) {
      throw DomainError.invalid('since', 'must be a date and time');
    }
    const result = (await this.deliveries.recover(authContextOf(s), endpointId, since)) as {
      resent?: number;
      created?: number;
    };
    const n = (result.resent ?? 0) + (result.created ?? 0);
    void reply
      .status(303)
      .header('location', `/console/webhooks/${endpointId}?done=recovered&n=${n}`)
      .send('');
  }

  @Get('account')
  account(@Req() req: SessionRequest, @Res() reply: FastifyReply) {
    const s = this.signedIn(req, reply);
    if (!s) return;
    this.send(reply, accountPage(pageUser(s), MIN_PASSWORD_LENGTH));
  }

  @Post('account/password')
  async password(@Body() form: Form, @Req() req: SessionRequest, @Res() reply: FastifyReply) {
    const s = this.signedIn(req, reply);
    if (!s) return;
    const current = str(form?.currentPassword) ?? '';
    const next = str(form?.newPassword) ?? '';
    try {
      await this.users.changePassword(s, current, next);
    } catch (err) {
      if (!(err instanceof DomainError) || err.code !== 'validation_failed') throw err;
      const detail = err.errors?.[0];
      const text =
        detail?.field === 'currentPassword'
          ? 'The current password is not right.'
          : `The new password ${detail?.message ?? 'is not acceptable'}.`;
      this.send(reply, accountPage(pageUser(s), MIN_PASSWORD_LENGTH, { kind: 'error', text }));
      return;
    }
    this.send(
      reply,
      accountPage(pageUser(s), MIN_PASSWORD_LENGTH, {
        kind: 'ok',
        text: 'Your password is changed; your other sessions have ended.',
      }),
    );
  }
}
