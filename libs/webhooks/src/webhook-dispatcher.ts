import { Injectable, Logger } from '@nestjs/common';
import { DelayedError, Job } from 'bullmq';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import {
  Clock,
  DeliveryJob,
  IdGenerator,
  LedgerlineConfig,
  Metrics,
  JobProcessor,
  Periodic,
  QueueName,
  QueueProcessor,
  RedisConnections,
} from '@app/platform';
import { StoredEvent } from '@app/events';
import { SecurityError, SsrfGuard } from '@app/security';
import { DeliveryScheduler } from './delivery-scheduler';
import { EndpointLanes, FAST_LANE_SLOTS, LaneSlot } from './endpoint-lanes';
import { AttemptRecorder } from './attempt-recorder';
import { PinnedHttpClient } from './pinned-http-client';
import { parseSchedule, RetryPolicy } from './retry-schedule';
import {
  ClaimedAttempt,
  ClaimedEventRow,
  WebhookDeliveryRepository,
} from './webhook-delivery.repository';
import { EndpointRow } from './webhook-endpoint.repository';
import { WebhookEndpointService } from './webhook-endpoint.service';
import { signatureHeader } from './webhook-signer';

interface AttemptOutcome {
  statusCode: number | null;
  error: string | null;
  body: string | null;
  durationMs: number;
  retryAfterMs?: number;
}

function toStoredEvent(tenantId: string, e: ClaimedEventRow): StoredEvent {
  return {
    tenantId,
    id: e.id,
    position: 0,
    type: e.type,
    subject: e.subject,
    actor: { type: e.actor_type as StoredEvent['actor']['type'], id: e.actor_id },
    actingAsTenantId: e.acting_as_tenant_id,
    occurredAt: new Date(e.occurred_at),
    receivedAt: new Date(e.received_at),
    data: e.data,
  };
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

/** The slow lane's slots per worker, about this many per endpoint, and how often it looks. */
const SLOW_LANE_SLOTS = 32;
const SLOW_LANE_PER_ENDPOINT = 8;
const SLOW_LANE_POLL_MS = 250;

/**
 * Signs and POSTs one delivery attempt (Standard Webhooks), records it, and then finishes the
 * delivery, schedules the next attempt, or disables the endpoint. Two lanes: the fast lane runs
 * the delivery queue's jobs; the slow lane takes slow endpoints' due deliveries straight from
 * PostgreSQL with a few slots of its own (see EndpointLanes).
 */
@Injectable()
@JobProcessor()
export class WebhookDispatcher implements QueueProcessor<QueueName.Delivery> {
  readonly queue = QueueName.Delivery as const;
  readonly concurrency = FAST_LANE_SLOTS;
  private readonly logger = new Logger(WebhookDispatcher.name);
  private readonly policy: RetryPolicy;
  private readonly leaseMs: number;
  private readonly limiters = new Map<number, RateLimiterRedis>();
  /** Slow-lane attempts in flight per endpoint: one slow endpoint cannot take all the slots. */
  private readonly slowLaneByEndpoint = new Map<string, number>();

  constructor(
    private readonly config: LedgerlineConfig,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly endpoints: WebhookEndpointService,
    private readonly scheduler: DeliveryScheduler,
    private readonly http: PinnedHttpClient,
    private readonly ssrf: SsrfGuard,
    private readonly redis: RedisConnections,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly lanes: EndpointLanes,
    private readonly recorder: AttemptRecorder,
  ) {
    this.policy = new RetryPolicy(parseSchedule(config.WEBHOOK_RETRY_SCHEDULE));
    this.leaseMs = config.WEBHOOK_TIMEOUT_MS + 30000;
  }

  async process(job: Job<DeliveryJob>, token?: string): Promise<void> {
    const { tenantId, deliveryId, attempt, endpointId } = job.data;
    // A slow endpoint's delivery stays due in PostgreSQL, where the slow lane takes it.
    const slot = await this.lanes.admit(tenantId, endpointId);
    if (!slot) return;
    try {
      // A stale or duplicate job, a disabled endpoint or a delivery that moved on claims nothing.
      const claimed = await this.deliveries.claimForAttempt(
        tenantId,
        deliveryId,
        attempt,
        this.leaseMs,
      );
      if (!claimed) return;
      this.lanes.learn(endpointId, claimed.endpoint.slow_until);
      const wait = await this.rateLimitWait(claimed.endpoint);
      if (wait > 0) {
        await this.deliveries.unclaim(tenantId, deliveryId);
        return await this.later(job, token, wait);
      }
      await this.deliver(claimed, slot);
    } finally {
      slot.release();
    }
  }

  @Periodic('webhook-slow-lane', SLOW_LANE_POLL_MS)
  private async pollSlowLane(): Promise<void> {
    let busy = 0;
    for (const n of this.slowLaneByEndpoint.values()) busy += n;
    const free = SLOW_LANE_SLOTS - busy;
    if (free <= 0) return;
    const full = [...this.slowLaneByEndpoint]
      .filter(([, n]) => n >= SLOW_LANE_PER_ENDPOINT)
      .map(([id]) => id);
    const claimed = await this.deliveries.claimSlowLane(
      free,
      SLOW_LANE_PER_ENDPOINT,
      this.leaseMs,
      full,
    );
    for (const attempt of claimed) {
      const endpointId = attempt.endpoint.id;
      this.slowLaneByEndpoint.set(endpointId, (this.slowLaneByEndpoint.get(endpointId) ?? 0) + 1);
      void this.deliverInSlowLane(attempt).finally(() => {
        const left = this.slowLaneByEndpoint.get(endpointId)! - 1;
        if (left > 0) this.slowLaneByEndpoint.set(endpointId, left);
        else this.slowLaneByEndpoint.delete(endpointId);
      });
    }
  }

  private async deliverInSlowLane(claimed: ClaimedAttempt): Promise<void> {
    const { endpoint, deliveryId } = claimed;
    try {
      if ((await this.rateLimitWait(endpoint)) > 0) {
        await this.deliveries.unclaim(endpoint.tenant_id, deliveryId);
        return;
      }
      await this.deliver(claimed);
    } catch (err) {
      // The lease runs out and the delivery is due again: nothing is lost.
      this.logger.warn(`slow-lane attempt of ${deliveryId} failed: ${(err as Error).message}`);
    }
  }

  private async deliver(
    { endpoint, event, deliveryId, attempt }: ClaimedAttempt,
    slot?: LaneSlot,
  ): Promise<void> {
    slot?.sending();
    const outcome = event
      ? await this.attempt(endpoint, deliveryId, toStoredEvent(endpoint.tenant_id, event))
      : this.fail('event_erased', 0);
    const backToFastLane = await this.lanes.observe(
      endpoint.tenant_id,
      endpoint.id,
      outcome.durationMs,
      outcome.statusCode !== null ? 'answered' : outcome.error === 'timeout' ? 'timeout' : 'error',
    );
    await this.record(endpoint, deliveryId, attempt, outcome);
    if (event && outcome.error === null)
      this.metrics.deliveryLatency.observe(
        (Date.now() - new Date(event.received_at).getTime()) / 1000,
      );
    if (backToFastLane)
      await this.scheduler.enqueueDue(endpoint.tenant_id, endpoint.id, `f${Date.now()}`);
  }

  private async later(
    job: Job<DeliveryJob>,
    token: string | undefined,
    ms: number,
  ): Promise<never> {
    await job.moveToDelayed(Date.now() + ms, token);
    throw new DelayedError();
  }

  /** 0 to go now, or how long to wait for the endpoint's rate limit (shared by all workers). */
  private async rateLimitWait(endpoint: EndpointRow): Promise<number> {
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
        endpoint.id,
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
    const recorded = await this.recorder.record({
      tenantId,
      attemptId: this.ids.next(),
      deliveryId,
      endpointId: endpoint.id,
      attempt,
      statusCode: outcome.statusCode,
      durationMs: outcome.durationMs,
      error: outcome.error,
      responseBody: outcome.body,
      ok,
      status,
      delayMs: delay ?? 0,
    });
    if (recorded.moved) this.metrics.deliveryStatus.inc({ status });
    const failures =
      ok || !recorded.streak
        ? null
        : { consecutive_failures: recorded.streak.failures, failing_since: recorded.streak.since };
    if (recorded.moved && status === 'pending' && delay !== null) {
      await this.scheduler.enqueue(
        [
          {
            tenant_id: tenantId,
            id: deliveryId,
            endpoint_id: endpoint.id,
            attempt_count: attempt + 1,
          },
        ],
        `a${Date.now() + delay}`,
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
