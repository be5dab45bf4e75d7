import { Controller, Get, Header, Inject, Logger, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Database } from '../database/database';
import { Public, RequireScope } from '../http/auth-context';
import { RedisConnections } from '../queue/redis-connections';
import { Metrics } from './metrics';

export const EXPECTED_MIGRATIONS = 'ledgerline:expected-migrations';
export const METRICS_ROUTE = 'ledgerline:metrics-route';

async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

@ApiExcludeController()
@Controller()
export class HealthController {
  private readonly logger = new Logger('Health');

  constructor(
    private readonly db: Database,
    private readonly redis: RedisConnections,
    private readonly metrics: Metrics,
    @Inject(EXPECTED_MIGRATIONS) private readonly expected: string[],
  ) {}

  @Public()
  @Get('livez')
  live() {
    return { status: 'ok' };
  }

  @Public()
  @Get('healthz')
  health(@Res({ passthrough: true }) reply: FastifyReply) {
    return this.ready(reply);
  }

  /** Ready when PostgreSQL and Redis answer and every known migration is applied. */
  @Public()
  @Get('readyz')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const checks = {
      postgres: await this.check('postgres', () => this.db.query('SELECT 1')),
      redis: await this.check('redis', () => this.redis.ping()),
      migrations: await this.check('migrations', async () => {
        const rows = await this.db.query<{ name: string }>('SELECT name FROM migrations');
        const applied = new Set(rows.map((r) => r.name));
        const missing = this.expected.filter((m) => !applied.has(m));
        if (missing.length) throw new Error(`pending: ${missing.join(', ')}`);
      }),
    };
    const ok = Object.values(checks).every((c) => c === 'ok');
    reply.status(ok ? 200 : 503);
    return { status: ok ? 'ok' : 'unavailable', checks };
  }

  @RequireScope('admin')
  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4')
  metricsText() {
    return this.metrics.registry.metrics();
  }

  /**
   * The answer is public: it names the check and its state only. Why it fails (host, port, user
   * in a driver's message) goes to the log, for operators.
   */
  private async check(name: string, probe: () => Promise<unknown>): Promise<'ok' | 'failing'> {
    try {
      await within(2000, probe());
      return 'ok';
    } catch (err) {
      this.logger.warn(`readiness check ${name} failing: ${(err as Error).message}`);
      return 'failing';
    }
  }
}
