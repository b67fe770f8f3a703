import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type QueryRunner } from 'typeorm';
import { isDatabaseUnavailable } from '../common/http/database-unavailable.js';
import type { AppConfig } from '../config/app.config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { WebhookDeliveryRepository } from '../webhooks/delivery/webhook-delivery.repository.js';
import { IntegrationEventRepository } from '../webhooks/inbound/integration-event.repository.js';
import { sql } from '../database/sql.js';

/** The advisory lock key of the retention job (one instance prunes at a time); spells "JCRMRETN". */
export const RETENTION_LOCK_KEY = '5351705651285120334';
const JOB = 'retention-prune';
const INTERVAL_MS = 10 * 60_000;
const FIRST_RUN_DELAY_MS = 60_000;
/** Rows per DELETE: each batch is its own short transaction, so no lock is held for long. */
const BATCH_SIZE = 1000;
const PAUSE_BETWEEN_BATCHES_MS = 10;
/** One run stops after this long; the next run carries on where it stopped. */
const RUN_BUDGET_MS = 60_000;

export type PrunedTable = 'webhook_deliveries' | 'integration_events' | 'domain_events';
export type PruneCounts = Record<PrunedTable, number>;

/**
 * Deletes what outlived its retention period: finished webhook deliveries (their attempts go with them),
 * finished inbound events, and domain events no delivery refers to any more. Pending deliveries and
 * received or processing inbound events are never touched, and neither is a domain event with a delivery
 * still kept (pending or within DELIVERY_RETENTION_DAYS). Runs every 10 minutes on worker instances, in
 * small batches, under a PostgreSQL advisory lock.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(RetentionService.name);
  private running: Promise<unknown> | null = null;
  private stopped = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    private readonly scheduler: SchedulerRegistry,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly inboundEvents: IntegrationEventRepository,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.appRole === 'api') return;
    const run = () => {
      if (this.running || this.stopped) return;
      this.running = this.pruneExpired()
        .catch((error: unknown) => {
          if (isDatabaseUnavailable(error)) this.logger.warn(`Retention run stopped: the database is unavailable (${String(error)})`);
          else this.logger.error(`Retention run failed: ${error instanceof Error ? error.stack : String(error)}`);
        })
        .finally(() => (this.running = null));
    };
    this.scheduler.addTimeout(`${JOB}-first`, setTimeout(run, FIRST_RUN_DELAY_MS).unref());
    this.scheduler.addInterval(JOB, setInterval(run, INTERVAL_MS).unref());
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.scheduler.doesExist('timeout', `${JOB}-first`)) this.scheduler.deleteTimeout(`${JOB}-first`);
    if (this.scheduler.doesExist('interval', JOB)) this.scheduler.deleteInterval(JOB);
    await this.running;
  }

  /** One pruning run; resolves with the rows deleted per table, or null when another instance holds the lock. */
  async pruneExpired(): Promise<PruneCounts | null> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1::bigint) AS locked', [RETENTION_LOCK_KEY])) as Array<{ locked: boolean }>;
      if (!locked) return null;
      try {
        const deadline = Date.now() + RUN_BUDGET_MS;
        const counts: PruneCounts = { webhook_deliveries: 0, integration_events: 0, domain_events: 0 };
        // Deliveries first: a domain event goes only once no delivery refers to it.
        const steps: Array<[PrunedTable, (limit: number) => Promise<number>]> = [
          ['webhook_deliveries', (limit) => this.deliveries.pruneFinished(runner, this.config.deliveryRetentionDays, limit)],
          ['integration_events', (limit) => this.inboundEvents.pruneFinished(runner, this.config.inboundRetentionDays, limit)],
          ['domain_events', (limit) => this.pruneDomainEvents(runner, this.config.eventRetentionDays, limit)],
        ];
        for (const [table, prune] of steps) {
          while (!this.stopped && Date.now() < deadline) {
            const deleted = await prune(BATCH_SIZE);
            counts[table] += deleted;
            this.metrics.retentionPruned.inc({ table }, deleted);
            if (deleted < BATCH_SIZE) break;
            await new Promise((resolve) => setTimeout(resolve, PAUSE_BETWEEN_BATCHES_MS));
          }
        }
        const total = counts.webhook_deliveries + counts.integration_events + counts.domain_events;
        if (total > 0) this.logger.log(counts, `Retention pruned ${total} rows`);
        return counts;
      } finally {
        // A dropped connection has released the lock already; anything else is worth a line.
        await runner
          .query('SELECT pg_advisory_unlock($1::bigint)', [RETENTION_LOCK_KEY])
          .catch((error: unknown) => {
            if (!isDatabaseUnavailable(error)) this.logger.warn(`Releasing the retention lock failed: ${String(error)}`);
          });
      }
    } finally {
      await runner.release();
    }
  }

  /** Domain events older than `days` that no remaining delivery refers to (deliveries are pruned first). */
  private async pruneDomainEvents(runner: QueryRunner, days: number, limit: number): Promise<number> {
    const { count } = await sql(
      runner,
      `DELETE FROM domain_events WHERE id IN (
         SELECT e.id FROM domain_events e
          WHERE e.occurred_at < now() - make_interval(days => $1)
            AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)
          ORDER BY e.occurred_at LIMIT $2 FOR UPDATE OF e SKIP LOCKED)`,
      [days, limit],
    );
    return count;
  }
}
