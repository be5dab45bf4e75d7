import { Injectable } from '@nestjs/common';
import { Counter, Histogram, collectDefaultMetrics, Registry } from 'prom-client';

/** The process's Prometheus registry and Ledgerline's own instruments. */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'ledgerline_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly eventsAccepted = new Counter({
    name: 'ledgerline_events_accepted_total',
    help: 'Events committed to the event store',
    registers: [this.registry],
  });

  readonly jobDuration = new Histogram({
    name: 'ledgerline_job_duration_seconds',
    help: 'Background job run time by queue',
    labelNames: ['queue'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [this.registry],
  });

  /** A relay pass: over the streams named by wake-ups, or over every stream (the safety net). */
  readonly relayPass = new Histogram({
    name: 'ledgerline_relay_pass_seconds',
    help: 'Relay pass run time by kind (named: the tenants woken; full: every stream)',
    labelNames: ['kind'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });

  readonly auditEntries = new Counter({
    name: 'ledgerline_audit_entries_appended_total',
    help: 'Audit chain entries appended',
    registers: [this.registry],
  });

  readonly deliveries = new Counter({
    name: 'ledgerline_webhook_attempts_total',
    help: 'Webhook delivery attempts by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  /** Publish (the event's received_at) to the receiver's 2xx, observed once per delivery. */
  readonly deliveryLatency = new Histogram({
    name: 'ledgerline_webhook_delivery_latency_seconds',
    help: 'Seconds from an event being accepted to its webhook being delivered (2xx)',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600],
    registers: [this.registry],
  });

  readonly deliveryStatus = new Counter({
    name: 'ledgerline_webhook_deliveries_total',
    help: 'Deliveries moved by an attempt, by the status they moved to',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  readonly verifyResults = new Counter({
    name: 'ledgerline_audit_verify_total',
    help: 'Audit chain verifications by outcome (intact, broken, error)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'ledgerline_' });
  }
}
