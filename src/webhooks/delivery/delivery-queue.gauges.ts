import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsService } from '../../metrics/metrics.service.js';
import { WebhookDeliveryRepository } from './webhook-delivery.repository.js';

/** The delivery queue's gauges on /api/metrics, read from its owner at each scrape. */
@Injectable()
export class DeliveryQueueGauges {
  constructor(metrics: MetricsService, deliveries: WebhookDeliveryRepository) {
    new Gauge({
      name: 'junction_webhook_deliveries_due',
      help: 'Pending webhook deliveries that are due now (the delivery queue depth)',
      registers: [metrics.registry],
      async collect() {
        this.set((await deliveries.countPending()).due);
      },
    });
    new Gauge({
      name: 'junction_webhook_deliveries_pending',
      help: 'Pending webhook deliveries, due now or waiting for a retry',
      registers: [metrics.registry],
      async collect() {
        this.set((await deliveries.countPending()).pending);
      },
    });
  }
}
