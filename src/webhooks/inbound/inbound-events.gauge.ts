import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsService } from '../../metrics/metrics.service.js';
import { IntegrationEventRepository } from './integration-event.repository.js';

/** The inbound queue's gauge on /api/metrics, read from its owner at each scrape. */
@Injectable()
export class InboundEventsGauge {
  constructor(metrics: MetricsService, events: IntegrationEventRepository) {
    new Gauge({
      name: 'junction_inbound_events',
      help: 'Inbound events by status',
      labelNames: ['status'] as const,
      registers: [metrics.registry],
      async collect() {
        const counts = await events.countByStatus();
        this.reset();
        for (const { status, count } of counts) this.set({ status }, count);
      },
    });
  }
}
