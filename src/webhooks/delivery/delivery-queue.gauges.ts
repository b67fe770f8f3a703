import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsService } from '../../metrics/metrics.service.js';
import { WebhookDeliveryRepository } from './webhook-delivery.repository.js';

/**
 * The delivery queue's gauges on /api/metrics, read from its owner at each scrape: both from one count
 * (a scrape collects every gauge at once, so the two share the query under way).
 */
@Injectable()
export class DeliveryQueueGauges {
  private counting: Promise<{ pending: number; due: number }> | null = null;

  constructor(metrics: MetricsService, deliveries: WebhookDeliveryRepository) {
    const counts = () => (this.counting ??= deliveries.countPending().finally(() => (this.counting = null)));
    new Gauge({
      name: 'junction_webhook_deliveries_due',
      help: 'Pending webhook deliveries that are due now (the delivery queue depth)',
      registers: [metrics.registry],
      async collect() {
        this.set((await counts()).due);
      },
    });
    new Gauge({
      name: 'junction_webhook_deliveries_pending',
      help: 'Pending webhook deliveries, due now or waiting for a retry',
      registers: [metrics.registry],
      async collect() {
        this.set((await counts()).pending);
      },
    });
  }
}
