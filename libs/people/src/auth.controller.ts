import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiProblems, ApiPublic, DomainError, LedgerlineConfig, Public } from '@app/platform';
import { LoginDto, SessionDto } from './dto/login.dto';
import { SessionService } from './session.service';
import { isFormRequest, SessionRequest } from './session-http';
import { clearedSessionCookie, readCookie, SESSION_COOKIE, sessionCookie } from './session-token';

/** Where a form sign-in may send the browser next: a console path, nothing else. */
export function safeNext(next: string | undefined): string {
  return next && /^\/console(\/[A-Za-z0-9/_-]*)?$/.test(next) ? next : '/console';
}

/**
 * Login CSRF: a sign-in must come from this site's own page. A browser says where a request
 * comes from (Sec-Fetch-Site, which a page cannot forge; else Origin): same-origin (or a typed
 * address, `none`) only, or an Origin equal to PUBLIC_BASE_URL's or the request's own host. A
 * request with neither header is not a browser's (curl, an API client) and is let through.
 */
export function loginOriginAllowed(
  headers: Record<string, string | string[] | undefined>,
  publicBaseUrl: string | undefined,
): boolean {
  const site = headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin' || site === 'none';
  const origin = headers.origin;
  if (origin === undefined) return true;
  if (typeof origin !== 'string') return false;
  try {
    const from = new URL(origin);
    if (publicBaseUrl && new URL(publicBaseUrl).origin === from.origin) return true;
    return typeof headers.host === 'string' && from.host === headers.host.toLowerCase();
  } catch {
    return false; // "null" (a sandboxed or file page) and anything unparsable
  }
}

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly sessions: SessionService,
    private readonly config: LedgerlineConfig,
  ) {}

  @Post('login')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Sign in: sets an HttpOnly session cookie (an HTML form is answered 303)',
  })
  @ApiOkResponse({ type: SessionDto })
  @ApiPublic()
  @ApiProblems([400, 401, 403, 413, 415], {
    401: 'Wrong email or password (the same answer for an unknown email)',
    403: 'A browser sign-in from another site (login CSRF)',
    429: '`account_locked` after five failures in 15 minutes, or the per-IP rate limit',
  })
  async login(
    @Body() dto: LoginDto,
    @Req() req: SessionRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SessionDto | string> {
    if (!loginOriginAllowed(req.headers, this.config.PUBLIC_BASE_URL)) {
      throw new DomainError('forbidden', 'Sign in from the console’s own sign-in page');
    }
    const form = isFormRequest(req);
    const previous = readCookie(req.headers.cookie, SESSION_COOKIE);
    let result;
    try {
      result = await this.sessions.login(dto.email, dto.password, previous);
    } catch (err) {
      if (!form || !(err instanceof DomainError)) throw err;
      if (err.code !== 'unauthorized' && err.code !== 'account_locked') throw err;
      const query = new URLSearchParams({
        error: err.code === 'account_locked' ? 'locked' : 'bad',
      });
      if (dto.next) query.set('next', safeNext(dto.next));
      void reply.status(303).header('location', `/console/login?${query.toString()}`);
      return '';
    }
    const { sessionId, session } = result;
    void reply.header('set-cookie', sessionCookie(sessionId, session.maxAgeSeconds));
    void reply.header('cache-control', 'no-store');
    if (form) {
      void reply.status(303).header('location', safeNext(dto.next));
      return '';
    }
    return {
      userId: session.userId,
      tenantId: session.tenantId,
      role: session.role,
      csrfToken: session.csrfToken,
      expiresIn: session.maxAgeSeconds,
    };
  }

  @Post('logout')
  @Public()
  @HttpCode(204)
  @ApiOperation({
    summary: 'Sign out: ends the session cookie’s session (send X-CSRF-Token with the cookie)',
  })
  @ApiNoContentResponse({ description: 'Signed out (an HTML form is answered 303)' })
  @ApiPublic()
  @ApiProblems([403], { 403: 'The CSRF token is missing or wrong' })
  async logout(
    @Req() req: SessionRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    if (req.sessionId) await this.sessions.logout(req.sessionId);
    void reply.header('set-cookie', clearedSessionCookie());
    if (isFormRequest(req)) void reply.status(303).header('location', '/console/login');
  }
}
