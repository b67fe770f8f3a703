import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';

/** Prometheus metrics of this app instance (a registry of its own, so several instances can share a process). */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly webhookDeliveries = new Counter({
    name: 'junction_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome (succeeded, retrying, failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly webhookAttemptDuration = new Histogram({
    name: 'junction_webhook_attempt_duration_seconds',
    help: 'Duration of webhook HTTP attempts',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly webhookEventLatency = new Histogram({
    name: 'junction_webhook_event_to_delivery_seconds',
    help: 'Time from the domain event to a successful delivery',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300, 3600],
    registers: [this.registry],
  });

  readonly inboundProcessed = new Counter({
    name: 'junction_inbound_events_processed_total',
    help: 'Inbound events handled by the processor, by outcome (processed, ignored, retrying, failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly inboundLag = new Histogram({
    name: 'junction_inbound_processing_lag_seconds',
    help: 'Time from receiving an inbound event to processing it',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 30, 300],
    registers: [this.registry],
  });

  readonly retentionPruned = new Counter({
    name: 'junction_retention_pruned_rows_total',
    help: 'Rows deleted by the retention job, by table (webhook_deliveries counts its attempts with it)',
    labelNames: ['table'] as const,
    registers: [this.registry],
  });

  constructor(@InjectDataSource() dataSource: DataSource) {
    new Gauge({
      name: 'junction_inbound_events',
      help: `Inbound events by status: received and processing counted exactly; processed, failed and ignored exactly while the table holds under ${EXACT_COUNT_MAX_ROWS} rows, above that the planner's estimate`,
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        const counts = await countInboundEvents(dataSource);
        this.reset();
        for (const [status, count] of counts) this.set({ status }, count);
      },
    });
    new Gauge({
      name: 'junction_webhook_deliveries_due',
      help: 'Pending webhook deliveries that are due now (the delivery queue depth)',
      registers: [this.registry],
      async collect() {
        const [row] = await dataSource.query<Array<{ count: string }>>(
          `SELECT count(*) AS count FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= now()`,
        );
        this.set(Number(row.count));
      },
    });
    new Gauge({
      name: 'junction_webhook_deliveries_pending',
      help: 'Pending webhook deliveries, due now or waiting for a retry',
      registers: [this.registry],
      async collect() {
        const [row] = await dataSource.query<Array<{ count: string }>>(`SELECT count(*) AS count FROM webhook_deliveries WHERE status = 'pending'`);
        this.set(Number(row.count));
      },
    });
  }
}

/**
 * Above this many rows (the planner's own estimate of the table's size) the finished inbound statuses are
 * estimated instead of counted: a count(*) of every processed event would read the whole table on every scrape.
 */
export const EXACT_COUNT_MAX_ROWS = 50_000;
const INBOUND_STATUSES = ['received', 'processing', 'processed', 'failed', 'ignored'] as const;

/**
 * integration_events by status, at a cost that does not grow with the history: received and processing are
 * counted exactly through the partial index integration_events_due_idx (they are the backlog); processed,
 * failed and ignored are counted exactly only while the table is small, and otherwise estimated from the
 * statistics ANALYZE keeps (pg_stats' most common values and their frequencies, times the row count the
 * planner would assume now: reltuples scaled to the table's current size, as the planner scales it).
 */
async function countInboundEvents(dataSource: DataSource): Promise<Map<string, number>> {
  const counts = new Map<string, number>(INBOUND_STATUSES.map((status) => [status, 0]));
  const [size] = await dataSource.query<Array<{ rows: number | null }>>(
    `SELECT CASE WHEN c.reltuples < 0 OR c.relpages = 0 THEN NULL
                 ELSE c.reltuples / c.relpages * (pg_relation_size(c.oid) / current_setting('block_size')::int) END AS rows
       FROM pg_class c WHERE c.oid = 'integration_events'::regclass`,
  );
  const estimatedRows = size?.rows === null || size?.rows === undefined ? null : Number(size.rows);
  if (estimatedRows === null || estimatedRows < EXACT_COUNT_MAX_ROWS) {
    const rows = await dataSource.query<Array<{ status: string; count: string }>>(`SELECT status, count(*) AS count FROM integration_events GROUP BY status`);
    for (const row of rows) counts.set(row.status, Number(row.count));
    return counts;
  }
  const backlog = await dataSource.query<Array<{ status: string; count: string }>>(
    `SELECT status, count(*) AS count FROM integration_events WHERE status IN ('received', 'processing') GROUP BY status`,
  );
  for (const row of backlog) counts.set(row.status, Number(row.count));
  const frequencies = await dataSource.query<Array<{ status: string; frequency: number }>>(
    `SELECT v.status, v.frequency
       FROM pg_stats s, unnest(s.most_common_vals::text::text[], s.most_common_freqs) AS v(status, frequency)
      WHERE s.schemaname = (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = 'integration_events'::regclass)
        AND s.tablename = 'integration_events' AND s.attname = 'status'`,
  );
  for (const { status, frequency } of frequencies) {
    if (status !== 'received' && status !== 'processing') counts.set(status, Math.round(Number(frequency) * estimatedRows));
  }
  return counts;
}
