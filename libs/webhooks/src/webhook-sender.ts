import { Injectable } from '@nestjs/common';
import { Clock, LedgerlineConfig } from '@app/platform';
import { StoredEvent } from '@app/events';
import { SecurityError, SsrfGuard, UnresolvedHostError } from '@app/security';
import { AttemptResult, DeliveryOutcomePolicy } from './delivery-outcome-policy';
import { EndpointSecrets } from './endpoint-secrets';
import { PinnedHttpClient } from './pinned-http-client';
import { WebhookEndpoint } from './webhook-endpoint';
import { signatureHeader } from './webhook-signer';

export interface SentAttempt extends AttemptResult {
  body: string | null;
  durationMs: number;
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

const TIMEOUT_NAMES = new Set(['TimeoutError', 'AbortError']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * One attempt on the wire: checks the destination again (SSRF), signs (Standard Webhooks) and
 * POSTs to the address that was checked. Never throws for what the endpoint or network did.
 */
@Injectable()
export class WebhookSender {
  constructor(
    private readonly config: LedgerlineConfig,
    private readonly ssrf: SsrfGuard,
    private readonly http: PinnedHttpClient,
    private readonly secrets: EndpointSecrets,
    private readonly clock: Clock,
  ) {}

  async send(
    endpoint: WebhookEndpoint,
    deliveryId: string,
    event: StoredEvent,
  ): Promise<SentAttempt> {
    const started = Date.now();
    let destination;
    try {
      destination = await this.ssrf.check(endpoint.url);
    } catch (err) {
      // A name that does not resolve now is a DNS failure, not a refused destination. It is
      // a failed attempt like a refused connection (retried, counted toward auto-disable).
      if (err instanceof UnresolvedHostError) return failed('dns_failure', started);
      if (err instanceof SecurityError) return failed('blocked_destination', started);
      throw err;
    }
    let secrets: string[];
    try {
      secrets = this.secrets.signing(endpoint);
    } catch (err) {
      // Moved from another endpoint, or sealed under a key no longer configured: never signs.
      if (err instanceof SecurityError) return failed('secret_unreadable', started);
      throw err;
    }
    const body = webhookBody(event);
    const timestamp = Math.floor(this.clock.now().getTime() / 1000);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Ledgerline-Webhooks/1.0',
      'webhook-id': deliveryId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(secrets, deliveryId, timestamp, body),
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
      const paced = res.statusCode === 429 || res.statusCode === 503;
      return {
        statusCode: res.statusCode,
        error: ok ? null : `http_${res.statusCode}`,
        body: res.body,
        durationMs: Date.now() - started,
        retryAfterMs: paced
          ? DeliveryOutcomePolicy.retryAfterMs(res.headers['retry-after'], Date.now())
          : undefined,
      };
    } catch (err) {
      const e = err as Error & { code?: string };
      const timedOut = TIMEOUT_NAMES.has(e.name) || TIMEOUT_CODES.has(e.code ?? '');
      return failed(timedOut ? 'timeout' : (e.code ?? 'connection_error').toLowerCase(), started);
    }
  }
}

export function failed(error: string, startedMs: number): SentAttempt {
  return { statusCode: null, error, body: null, durationMs: Date.now() - startedMs };
}
