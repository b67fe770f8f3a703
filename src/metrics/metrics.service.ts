import { Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of this app instance (a registry of its own, so several instances can share a process):
 * the counters and histograms the workers update. The queues' gauges are registered by their owners
 * (DeliveryQueueGauges, InboundEventsGauge).
 */
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
}
