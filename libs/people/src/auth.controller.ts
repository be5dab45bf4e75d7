import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiProblems, ApiPublic, DomainError, Public } from '@app/platform';
import { LoginDto, SessionDto } from './dto/login.dto';
import { SessionService } from './session.service';
import { isFormRequest, SessionRequest } from './session-http';
import { clearedSessionCookie, readCookie, SESSION_COOKIE, sessionCookie } from './session-token';

/** Where a form sign-in may send the browser next: a console path, nothing else. */
export function safeNext(next: string | undefined): string {
  return next && /^\/console(\/[A-Za-z0-9/_-]*)?$/.test(next) ? next : '/console';
}

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly sessions: SessionService) {}

  @Post('login')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Sign in: sets an HttpOnly session cookie (an HTML form is answered 303)',
  })
  @ApiOkResponse({ type: SessionDto })
  @ApiPublic()
  @ApiProblems([400, 401, 413, 415], {
    401: 'Wrong email or password (the same answer for an unknown email)',
    429: '`account_locked` after five failures in 15 minutes, or the per-IP rate limit',
  })
  async login(
    @Body() dto: LoginDto,
    @Req() req: SessionRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SessionDto | string> {
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
