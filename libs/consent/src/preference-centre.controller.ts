import { Body, Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Clock, DomainError, Public } from '@app/platform';
import { constantTimeEqual } from '@app/security';
import { ConsentService } from './consent.service';
import { ConsentLinks, LinkClaims, LinkKind } from './consent-links';
import { Channel, CHANNELS, ConsentStates } from './consent.types';
import { confirmPage, messagePage, PREFERENCE_CSS, preferencePage } from './preference-page';

type Form = Record<string, string | undefined>;

const HTML = 'text/html; charset=utf-8';
const userAgentOf = (req: FastifyRequest) => {
  const ua = req.headers['user-agent'];
  return typeof ua === 'string' ? ua.slice(0, 1000) : null;
};

/**
 * The contacts' own pages, no login: the preference centre (GET /preferences/{token}, also
 * shown at GET /unsubscribe/{token}), its form posts, RFC 8058 one-click unsubscribe and the
 * double opt-in confirmation. The signed token in the path is the credential; form posts also
 * carry a per-link form token and must come from this origin when the browser says where from.
 * Server-rendered, no script, no inline style (the API's CSP allows neither).
 */
@ApiExcludeController()
@Controller()
export class PreferenceCentreController {
  constructor(
    private readonly consent: ConsentService,
    private readonly links: ConsentLinks,
    private readonly clock: Clock,
  ) {}

  @Public()
  @Get('preference-centre.css')
  css(@Res({ passthrough: true }) reply: FastifyReply) {
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600');
    return PREFERENCE_CSS;
  }

  @Public()
  @Get('preferences/:token')
  async page(@Param('token') token: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.render(reply, token, await this.claims(token, ['p', 'u']));
  }

  @Public()
  @Get('unsubscribe/:token')
  async unsubscribePage(
    @Param('token') token: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.render(reply, token, await this.claims(token, ['p', 'u']));
  }

  @Public()
  @Post('preferences/:token')
  @HttpCode(200)
  async save(
    @Param('token') token: string,
    @Body() form: Form,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const claims = await this.claims(token, ['p', 'u']);
    await this.checkForm(token, form, req);
    const states = await this.consent.states(claims.tenantId, claims.contactId);
    let changed = 0;
    for (const channel of CHANNELS) {
      const wanted = form[channel];
      if (wanted !== 'granted' && wanted !== 'withdrawn') continue;
      if (sameChoice(states, channel, wanted)) continue;
      await this.consent.record(claims.tenantId, claims.contactId, {
        channel,
        status: wanted,
        source: 'preference_center',
        legalBasis: wanted === 'granted' ? 'consent' : null,
        evidence:
          wanted === 'granted'
            ? { ip: req.ip, userAgent: userAgentOf(req) ?? undefined, url: '/preferences' }
            : null,
        actor: { type: 'contact', id: claims.contactId },
        ip: req.ip ?? null,
        userAgent: userAgentOf(req),
      });
      changed++;
    }
    const notice = changed ? 'Your preferences were saved.' : 'Nothing changed.';
    return this.render(reply, token, claims, notice);
  }

  @Public()
  @Post('preferences/:token/erase')
  @HttpCode(200)
  async erase(
    @Param('token') token: string,
    @Body() form: Form,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    // Only the preference-centre link may erase: the unsubscribe link sits in every marketing
    // mail for 90 days and reaches whoever the mail was forwarded to.
    const claims = await this.claims(token, ['p']);
    await this.checkForm(token, form, req);
    if (form.confirm !== 'yes') {
      return this.render(reply, token, claims, 'Tick the box to confirm the deletion.');
    }
    await this.consent.erase(
      claims.tenantId,
      claims.contactId,
      { type: 'contact', id: claims.contactId },
      'preference_center',
    );
    reply.type(HTML);
    return messagePage('Your data was deleted', 'We have deleted your personal data.');
  }

  /** RFC 8058: `List-Unsubscribe=One-Click` withdraws email consent at once, no login. */
  @Public()
  @Post('unsubscribe/:token')
  @HttpCode(200)
  async oneClick(
    @Param('token') token: string,
    @Body() form: Form,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const claims = await this.claims(token, ['u', 'p']);
    if (form?.['List-Unsubscribe'] !== 'One-Click') {
      throw DomainError.invalid('List-Unsubscribe', 'must be One-Click');
    }
    const states = await this.consent.states(claims.tenantId, claims.contactId);
    if (states.email.status !== 'withdrawn') {
      await this.consent.record(claims.tenantId, claims.contactId, {
        channel: 'email',
        status: 'withdrawn',
        source: 'one_click_unsubscribe',
        actor: { type: 'contact', id: claims.contactId },
        ip: req.ip ?? null,
        userAgent: userAgentOf(req),
      });
    }
    reply.type(HTML);
    return messagePage('Unsubscribed', 'You will no longer receive these emails.');
  }

  /** Double opt-in, step 1: shows a page whose button confirms; following the link never does. */
  @Public()
  @Get('consent/confirm/:token')
  async confirmPage(
    @Param('token') token: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const claims = await this.claims(token, ['c']);
    if (!(await this.consent.confirmable(claims.tenantId, claims.contactId, claims.logId!))) {
      throw DomainError.notFound('Link');
    }
    reply.type(HTML).header('cache-control', 'no-store');
    return confirmPage(`/consent/confirm/${token}`, await this.links.formToken(token));
  }

  /** Double opt-in, step 2: the page's form post (form token, same origin) confirms. */
  @Public()
  @Post('consent/confirm/:token')
  @HttpCode(200)
  async confirm(
    @Param('token') token: string,
    @Body() form: Form,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const claims = await this.claims(token, ['c']);
    await this.checkForm(token, form, req);
    const record = await this.consent.confirm(
      claims.tenantId,
      claims.contactId,
      claims.logId!,
      req.ip ?? null,
      userAgentOf(req),
    );
    if (!record) throw DomainError.notFound('Link');
    reply.type(HTML);
    return messagePage('Thank you', 'Your subscription is confirmed.');
  }

  private async claims(token: string, kinds: LinkKind[]): Promise<LinkClaims> {
    const claims = await this.links.verify(token, kinds, this.clock.now().getTime());
    if (!claims) throw DomainError.notFound('Link');
    return claims;
  }

  private async checkForm(token: string, form: Form, req: FastifyRequest): Promise<void> {
    const expected = await this.links.formToken(token);
    if (typeof form?.csrf !== 'string' || !constantTimeEqual(form.csrf, expected)) {
      throw new DomainError('forbidden', 'The form is stale; reload the page');
    }
    const origin = req.headers.origin;
    if (typeof origin === 'string' && origin !== 'null') {
      let from: URL | undefined;
      try {
        from = new URL(origin);
      } catch {
        from = undefined;
      }
      // The public origin (behind a proxy that rewrites Host), or this request's own host.
      const ok = from && (from.origin === this.links.publicOrigin() || from.host === req.host);
      if (!ok) throw new DomainError('forbidden', 'Cross-site form post refused');
    }
  }

  private async render(
    reply: FastifyReply,
    token: string,
    claims: LinkClaims,
    notice?: string,
  ): Promise<string> {
    let states: ConsentStates;
    try {
      states = await this.consent.states(claims.tenantId, claims.contactId);
      const contact = await this.consent.getContact(claims.tenantId, claims.contactId);
      if (contact.erased) throw DomainError.notFound('Link');
    } catch (err) {
      if (err instanceof DomainError && err.code === 'not_found')
        throw DomainError.notFound('Link');
      throw err;
    }
    reply.type(HTML).header('cache-control', 'no-store');
    return preferencePage({
      action: `/preferences/${token}`,
      eraseAction: claims.kind === 'p' ? `/preferences/${token}/erase` : null,
      formToken: await this.links.formToken(token),
      states,
      notice,
    });
  }
}

function sameChoice(states: ConsentStates, channel: Channel, wanted: 'granted' | 'withdrawn') {
  const now = states[channel].status;
  if (wanted === 'granted') return now === 'granted' || now === 'pending_confirmation';
  return now === 'withdrawn' || now === 'denied';
}
