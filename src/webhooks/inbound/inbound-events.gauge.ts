import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsService } from '../../metrics/metrics.service.js';
import { EXACT_COUNT_MAX_ROWS, IntegrationEventRepository } from './integration-event.repository.js';

/** The inbound queue's gauge on /api/metrics, read from its owner at each scrape. */
@Injectable()
export class InboundEventsGauge {
  constructor(metrics: MetricsService, events: IntegrationEventRepository) {
    new Gauge({
      name: 'junction_inbound_events',
      help: `Inbound events by status: received and processing counted exactly; processed, failed and ignored exactly while the table holds under ${EXACT_COUNT_MAX_ROWS} rows, above that the planner's estimate`,
      labelNames: ['status'] as const,
      registers: [metrics.registry],
      async collect() {
        const counts = await events.countByStatus();
        this.reset();
        for (const [status, count] of counts) this.set({ status }, count);
      },
    });
  }
}
