import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { Database } from '../database/database';
import { STREAM_QUEUES } from '../queue/queue-names';
import { Metrics } from './metrics';

export interface OperationalState {
  /** Events each stream consumer has not consumed yet, summed over tenants. */
  relayLag: Record<string, number>;
  /** Seconds since the oldest event not yet in the audit chain was accepted (0: none owed). */
  auditHeadAge: number;
  disabledEndpoints: number;
}

/** Lagging tenants probed for the head age: beyond this the figure is a lower bound. */
const HEAD_AGE_TENANTS = 10000;

/**
 * One statement per scrape, on small rows only: tenant_streams and stream_cursors hold one row per
 * tenant (and consumer); the head age looks up one event per lagging tenant through
 * events_position_uq; endpoints are few. No scan of events, audit entries or deliveries.
 */
const STATE_SQL = `
  SELECT
    (SELECT coalesce(json_object_agg(k.consumer, k.lag), '{}') FROM (
       SELECT k.consumer, coalesce(sum(s.position - coalesce(c.position, 0)), 0)::bigint AS lag
       FROM unnest($1::text[]) AS k(consumer)
       CROSS JOIN tenant_streams s
       LEFT JOIN stream_cursors c ON c.tenant_id = s.tenant_id AND c.consumer = k.consumer
       GROUP BY k.consumer) k) AS relay_lag,
    (SELECT coalesce(extract(epoch FROM now() - min(e.received_at)), 0)::float8 FROM (
       SELECT s.tenant_id, coalesce(c.position, 0) + 1 AS next
       FROM tenant_streams s
       LEFT JOIN stream_cursors c ON c.tenant_id = s.tenant_id AND c.consumer = 'audit'
       WHERE s.position > coalesce(c.position, 0)
       LIMIT ${HEAD_AGE_TENANTS}) o
     JOIN events e ON e.tenant_id = o.tenant_id AND e.position = o.next) AS audit_head_age,
    (SELECT count(*)::int FROM webhook_endpoints WHERE status = 'disabled') AS disabled_endpoints`;

/**
 * Gauges read from PostgreSQL when /metrics is scraped, so every process reports the same
 * figures whichever one is scraped. One statement serves all of a scrape's gauges.
 */
@Injectable()
export class StateGauges {
  private pending?: Promise<OperationalState>;

  constructor(
    private readonly db: Database,
    metrics: Metrics,
  ) {
    // A failing query leaves the last figures in place: a scrape must not fail with the database.
    const read = () => this.read().catch(() => null);
    new Gauge({
      name: 'ledgerline_relay_lag_events',
      help: 'Accepted events a stream consumer (audit, fanout) has not consumed yet',
      labelNames: ['consumer'] as const,
      registers: [metrics.registry],
      async collect() {
        const relayLag = (await read())?.relayLag;
        if (relayLag)
          for (const consumer of STREAM_QUEUES) this.set({ consumer }, relayLag[consumer] ?? 0);
      },
    });
    new Gauge({
      name: 'ledgerline_audit_head_age_seconds',
      help: 'Seconds since the oldest event not yet in the audit chain was accepted (0: caught up)',
      registers: [metrics.registry],
      async collect() {
        const state = await read();
        if (state) this.set(state.auditHeadAge);
      },
    });
    new Gauge({
      name: 'ledgerline_webhook_endpoints_disabled',
      help: 'Webhook endpoints disabled (by failures or by hand)',
      registers: [metrics.registry],
      async collect() {
        const state = await read();
        if (state) this.set(state.disabledEndpoints);
      },
    });
  }

  /** The figures of the current scrape: the gauges collected together share one query. */
  read(): Promise<OperationalState> {
    this.pending ??= this.query().finally(() => setTimeout(() => (this.pending = undefined), 500));
    return this.pending;
  }

  private async query(): Promise<OperationalState> {
    const [row] = await this.db.query<{
      relay_lag: Record<string, string | number>;
      audit_head_age: number;
      disabled_endpoints: number;
    }>(STATE_SQL, [STREAM_QUEUES], 'metrics_state');
    const relayLag = Object.fromEntries(
      Object.entries(row.relay_lag).map(([k, v]) => [k, Number(v)]),
    );
    return {
      relayLag,
      auditHeadAge: row.audit_head_age,
      disabledEndpoints: row.disabled_endpoints,
    };
  }
}
