import { CanActivate, ExecutionContext, INestApplication, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import * as ipaddr from 'ipaddr.js';
import {
  AuthContext,
  DomainError,
  LedgerlineConfig,
  PUBLIC_ROUTE,
  RateLimiter,
  REQUIRED_SCOPES,
  RequestContext,
  Scope,
} from '@app/platform';
import { ApiKeyService } from './api-key.service';

const PROBES = new Set(['/livez', '/healthz', '/readyz']);

type AuthedRequest = FastifyRequest & { auth?: AuthContext; authenticated?: AuthContext };

function presentedKey(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match ? match[1] : '';
  }
  const apiKey = req.headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey.trim() : undefined;
}

/**
 * Every route is authenticated unless marked @Public(): API key, X-Tenant-Id, rate limit, scope.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeyService,
    private readonly limiter: RateLimiter,
    private readonly config: LedgerlineConfig,
  ) {}

  /** Prometheus scrapers on METRICS_ALLOWED_CIDRS need no key. */
  private scraperAllowed(req: FastifyRequest): boolean {
    if (req.routeOptions.url !== '/metrics' || !this.config.METRICS_ALLOWED_CIDRS.length)
      return false;
    try {
      const ip = ipaddr.process(req.ip);
      return this.config.METRICS_ALLOWED_CIDRS.some((cidr) => {
        const range = ipaddr.parseCIDR(cidr);
        return ip.kind() === range[0].kind() && ip.match(range);
      });
    } catch {
      return false;
    }
  }

  /**
   * Who the presented key belongs to, or 401. The per-IP limit comes first: a key that needs a
   * database lookup (not cached), and every missing or failed key, costs the address a point,
   * so guessing keys is limited before it costs a query. A cached valid key costs nothing here.
   */
  async authenticate(req: FastifyRequest): Promise<AuthContext> {
    const key = presentedKey(req);
    let charged = false;
    const chargeIp = async () => {
      charged = true;
      await this.limiter.consumeForIp(req.ip);
    };
    const auth = key ? await this.keys.authenticate(key, chargeIp) : null;
    if (!auth) {
      if (!charged) await chargeIp();
      throw new DomainError('unauthorized', 'A valid API key is required', undefined, {
        'www-authenticate': 'Bearer',
      });
    }
    return auth;
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) {
      // Probes are exempt so an orchestrator's health checks never get a 429.
      if (!PROBES.has(req.routeOptions.url ?? '')) await this.limiter.consumeForIp(req.ip);
      return true;
    }
    if (this.scraperAllowed(req)) return true;

    const auth = req.authenticated ?? (await this.authenticate(req));
    const tenantHeader = req.headers['x-tenant-id'];
    if (tenantHeader !== undefined && String(tenantHeader).toLowerCase() !== auth.tenantId) {
      throw new DomainError('tenant_mismatch', 'X-Tenant-Id does not match the API key');
    }
    await this.limiter.consumeForKey(auth.keyId);
    const needed =
      this.reflector.getAllAndOverride<Scope[] | undefined>(REQUIRED_SCOPES, targets) ?? [];
    if (needed.length && !auth.scopes.has('admin') && !needed.some((s) => auth.scopes.has(s))) {
      throw new DomainError(
        'insufficient_scope',
        `This key needs one of the scopes: ${needed.join(', ')}`,
      );
    }
    req.auth = auth;
    // Every log line from here to the answer names the tenant (and key) it was written for.
    RequestContext.assign({ tenantId: auth.tenantId, keyId: auth.keyId });
    return true;
  }
}

/**
 * Routes that accept a large body authenticate in onRequest, before the body is read or parsed:
 * an anonymous 4 MiB batch then costs nothing but the 401 (the guard reuses the result).
 */
export function authenticateBeforeBody(app: INestApplication, routes: string[]): void {
  const guard = app.get(ApiKeyGuard);
  const early = new Set(routes);
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  fastify.addHook('onRequest', async (req: AuthedRequest) => {
    if (early.has(req.routeOptions.url ?? '')) req.authenticated = await guard.authenticate(req);
  });
}
