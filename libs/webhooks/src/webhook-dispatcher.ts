import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DelayedError, Job } from 'bullmq';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import {
  Clock,
  Database,
  DeliveryJob,
  IdGenerator,
  LedgerlineConfig,
  Metrics,
  ProcessorRegistry,
  QueueName,
  QueueProcessor,
  RedisConnections,
} from '@app/platform';
import { EventStore, StoredEvent } from '@app/events';
import { SecurityError, SsrfGuard } from '@app/security';
import { DeliveryScheduler } from './delivery-scheduler';
import { PinnedHttpClient } from './pinned-http-client';
import { parseSchedule, RetryPolicy } from './retry-schedule';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import { EndpointRow, WebhookEndpointRepository } from './webhook-endpoint.repository';
import { WebhookEndpointService } from './webhook-endpoint.service';
import { signatureHeader } from './webhook-signer';

/** Attempts one endpoint may have in flight in one worker: a slow endpoint cannot take them all. */
const MAX_IN_FLIGHT_PER_ENDPOINT = 8;

interface AttemptOutcome {
  statusCode: number | null;
  error: string | null;
  body: string | null;
  durationMs: number;
  retryAfterMs?: number;
}

export function webhookBody(event: StoredEvent): string {
  return JSON.stringify({
    type: event.type,
    timestamp: event.receivedAt.toISOString(),
    data: {
      id: event.id,
      type: event.type,
      subject: event.subject,
      actor: event.actor,
      actingAsTenantId: event.actingAsTenantId,
      occurredAt: event.occurredAt.toISOString(),
      data: event.data,
    },
  });
}

function retryAfterMs(value: string | string[] | undefined, now: number): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return undefined;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim()) * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Signs and POSTs one delivery attempt (Standard Webhooks), records it, and then finishes the
 * delivery, schedules the next attempt, or disables the endpoint.
 */
@Injectable()
export class WebhookDispatcher implements QueueProcessor<QueueName.Delivery>, OnModuleInit {
  readonly queue = QueueName.Delivery as const;
  readonly concurrency = 64;
  private readonly logger = new Logger(WebhookDispatcher.name);
  private readonly policy: RetryPolicy;
  private readonly inFlight = new Map<string, number>();
  private readonly limiters = new Map<number, RateLimiterRedis>();

  constructor(
    private readonly db: Database,
    private readonly config: LedgerlineConfig,
    private readonly processors: ProcessorRegistry,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly endpointsRepo: WebhookEndpointRepository,
    private readonly endpoints: WebhookEndpointService,
    private readonly store: EventStore,
    private readonly scheduler: DeliveryScheduler,
    private readonly http: PinnedHttpClient,
    private readonly ssrf: SsrfGuard,
    private readonly redis: RedisConnections,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
  ) {
    this.policy = new RetryPolicy(parseSchedule(config.WEBHOOK_RETRY_SCHEDULE));
  }

  onModuleInit(): void {
    this.processors.register(this);
  }

  async process(job: Job<DeliveryJob>, token?: string): Promise<void> {
    const { tenantId, deliveryId, attempt } = job.data;
    const delivery = await this.deliveries.get(tenantId, deliveryId);
    if (!delivery || delivery.status !== 'pending' || delivery.attempt_count !== attempt) return;
    const endpoint = await this.endpointsRepo.get(tenantId, delivery.endpoint_id);
    if (!endpoint || endpoint.status !== 'enabled') return; // disabling moved it to waiting

    const wait = await this.admission(endpoint);
    if (wait > 0) {
      await job.moveToDelayed(Date.now() + wait, token);
      throw new DelayedError();
    }
    this.inFlight.set(endpoint.id, (this.inFlight.get(endpoint.id) ?? 0) + 1);
    try {
      const leaseMs = this.config.WEBHOOK_TIMEOUT_MS + 30000;
      if (!(await this.deliveries.claim(tenantId, deliveryId, attempt, leaseMs))) return;
      const event = await this.store.findById(tenantId, delivery.event_id);
      const outcome = event
        ? await this.attempt(endpoint, deliveryId, event)
        : this.fail('event_erased', 0);
      await this.record(endpoint, deliveryId, attempt, outcome);
    } finally {
      const n = (this.inFlight.get(endpoint.id) ?? 1) - 1;
      if (n > 0) this.inFlight.set(endpoint.id, n);
      else this.inFlight.delete(endpoint.id);
    }
  }

  /** 0 to go now, or how long to wait: per-endpoint concurrency here, rate limit across workers. */
  private async admission(endpoint: EndpointRow): Promise<number> {
    if ((this.inFlight.get(endpoint.id) ?? 0) >= MAX_IN_FLIGHT_PER_ENDPOINT)
      return 50 + Math.random() * 100;
    const limit = endpoint.rate_limit_per_second;
    if (!limit) return 0;
    let limiter = this.limiters.get(limit);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: this.redis.shared,
        keyPrefix: `${this.redis.queuePrefix}:rl:endpoint:${limit}`,
        points: limit,
        duration: 1,
      });
      this.limiters.set(limit, limiter);
    }
    try {
      await limiter.consume(endpoint.id);
      return 0;
    } catch (res) {
      return res instanceof RateLimiterRes ? Math.max(10, res.msBeforeNext) : 200;
    }
  }

  private async attempt(
    endpoint: EndpointRow,
    deliveryId: string,
    event: StoredEvent,
  ): Promise<AttemptOutcome> {
    const started = Date.now();
    let destination;
    try {
      destination = await this.ssrf.check(endpoint.url);
    } catch (err) {
      if (err instanceof SecurityError)
        return this.fail('blocked_destination', Date.now() - started);
      throw err;
    }
    const body = webhookBody(event);
    const timestamp = Math.floor(this.clock.now().getTime() / 1000);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Ledgerline-Webhooks/1.0',
      'webhook-id': deliveryId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(
        this.endpoints.signingSecrets(endpoint),
        deliveryId,
        timestamp,
        body,
      ),
    };
    try {
      const res = await this.http.post(
        destination.url,
        destination.addresses[0],
        headers,
        body,
        this.config.WEBHOOK_TIMEOUT_MS,
      );
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      return {
        statusCode: res.statusCode,
        error: ok ? null : `http_${res.statusCode}`,
        body: res.body,
        durationMs: Date.now() - started,
        retryAfterMs:
          res.statusCode === 429 || res.statusCode === 503
            ? retryAfterMs(res.headers['retry-after'], Date.now())
            : undefined,
      };
    } catch (err) {
      const e = err as Error & { code?: string };
      const timedOut =
        e.name === 'TimeoutError' ||
        e.name === 'AbortError' ||
        e.code === 'UND_ERR_HEADERS_TIMEOUT' ||
        e.code === 'UND_ERR_BODY_TIMEOUT';
      return this.fail(
        timedOut ? 'timeout' : (e.code ?? 'connection_error').toLowerCase(),
        Date.now() - started,
      );
    }
  }

  private fail(error: string, durationMs: number): AttemptOutcome {
    return { statusCode: null, error, body: null, durationMs };
  }

  private async record(
    endpoint: EndpointRow,
    deliveryId: string,
    attempt: number,
    outcome: AttemptOutcome,
  ): Promise<void> {
    const tenantId = endpoint.tenant_id;
    const ok = outcome.error === null;
    const gone = outcome.statusCode === 410;
    const delay = ok || gone ? null : this.policy.nextDelay(attempt + 1, outcome.retryAfterMs);
    const status = ok ? 'succeeded' : gone ? 'waiting' : delay === null ? 'failed' : 'pending';
    this.metrics.deliveries.inc({ outcome: ok ? 'succeeded' : (outcome.error ?? 'failed') });
    const failures = await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO webhook_attempts (tenant_id, id, delivery_id, endpoint_id, attempted_at, status_code, duration_ms, error, response_body)
         VALUES ($1, $2, $3, $4, now(), $5, $6, $7, $8)`,
        [
          tenantId,
          this.ids.next(),
          deliveryId,
          endpoint.id,
          outcome.statusCode,
          outcome.durationMs,
          outcome.error,
          outcome.body,
        ],
        'attempt_insert',
      );
      await tx.query(
        `UPDATE webhook_deliveries SET status = $3, attempt_count = attempt_count + 1, updated_at = now(),
                next_attempt_at = CASE WHEN $3 = 'pending' THEN now() + ($4::int * interval '1 millisecond') END
         WHERE tenant_id = $1 AND id = $2`,
        [tenantId, deliveryId, status, delay ?? 0],
        'delivery_record',
      );
      if (ok) {
        await tx.query(
          `UPDATE webhook_endpoints SET consecutive_failures = 0, failing_since = NULL
           WHERE tenant_id = $1 AND id = $2 AND consecutive_failures > 0`,
          [tenantId, endpoint.id],
          'endpoint_reset_failures',
        );
        return null;
      }
      const [row] = await tx.query<{ consecutive_failures: number; failing_since: Date }>(
        `UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1,
                failing_since = coalesce(failing_since, now())
         WHERE tenant_id = $1 AND id = $2 RETURNING consecutive_failures, failing_since`,
        [tenantId, endpoint.id],
        'endpoint_count_failure',
      );
      return row;
    });
    if (status === 'pending' && delay !== null) {
      await this.scheduler.enqueue(
        [{ tenant_id: tenantId, id: deliveryId, attempt_count: attempt + 1 }],
        'a',
        delay,
      );
    }
    if (gone) {
      await this.endpoints.disable(tenantId, endpoint.id, 'The endpoint answered 410 Gone');
    } else if (
      failures &&
      this.shouldDisable(failures.consecutive_failures, failures.failing_since)
    ) {
      const reason = `${failures.consecutive_failures} consecutive failed attempts since ${failures.failing_since.toISOString()}`;
      if (await this.endpoints.disable(tenantId, endpoint.id, reason)) {
        this.logger.warn(`endpoint ${endpoint.id} disabled: ${reason}`);
      }
    }
  }

  private shouldDisable(failures: number, since: Date): boolean {
    return (
      failures >= this.config.WEBHOOK_DISABLE_AFTER_FAILURES &&
      this.clock.now().getTime() - since.getTime() >=
        this.config.WEBHOOK_DISABLE_AFTER_SECONDS * 1000
    );
  }
}
