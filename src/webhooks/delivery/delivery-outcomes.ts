import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { DataSource } from 'typeorm';
import { isDatabaseUnavailable } from '../../common/http/database-unavailable.js';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { dedicatedPool } from '../../database/dedicated-pool.js';
import { DomainEventPublisher } from '../../events/domain-event-publisher.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { SubscriptionsService } from '../subscriptions/subscriptions.service.js';
import type { DeliveryStatus } from './webhook-delivery.entity.js';
import type { ClaimedDelivery, DeliveryOutcomeRow } from './delivery-rows.js';
import { WebhookDeliveryRepository } from './webhook-delivery.repository.js';
import type { AttemptResult } from './webhook-http-client.js';

export interface Decision {
  status: DeliveryStatus;
  nextAttemptAt: Date | null;
  /** Set when the subscription must be disabled, with why. */
  disableReason: string | null;
}

const FAILING_LIMIT_MS = 3 * 24 * 3600 * 1000;
const MAX_RETRY_AFTER_SECONDS = 24 * 3600;
const FLUSH_SIZE = 200;
/**
 * How long the first outcome waits for others to share its write, while the writer is idle (a busy writer takes
 * what piled up as soon as it is done). An outcome not yet written is a delivery sent again after a crash: at
 * 20 ms, test/webhook-crash-resend.e2e-spec.ts saw 6–22 of 900 events sent twice (its bound, 2 %, is 18); at
 * 5 ms, 5–8. The writes this adds come only while the rate is low enough for the writer to be idle.
 */
const FLUSH_DELAY_MS = 5;
/** Most outcomes one write takes: what piled up while the previous write ran goes in the next one. */
const MAX_BATCH = 1000;
// A batch whose write failed because the database went away is written again, with backoff, for this long.
const WRITE_RETRY_FOR_MS = 120_000;
const WRITE_RETRY_MAX_DELAY_MS = 2_000;

function isRetryable(result: AttemptResult): boolean {
  if (result.errorCode === 'E_TIMEOUT' || result.errorCode === 'E_CONNECTION' || result.errorCode === 'E_DNS') return true;
  return result.statusCode !== null && (result.statusCode >= 500 || result.statusCode === 429 || result.statusCode === 408);
}

/** What happens to a delivery after an attempt: the retry schedule with ±20 % jitter, Retry-After, 410, three days. */
export function decide(delivery: Pick<ClaimedDelivery, 'attempts' | 'failingSince' | 'enabled' | 'retryable'>, result: AttemptResult, schedule: number[], now = new Date()): Decision {
  if (result.succeeded) return { status: 'succeeded', nextAttemptAt: null, disableReason: null };
  if (!delivery.enabled) return { status: 'failed', nextAttemptAt: null, disableReason: null };
  if (result.statusCode === 410) return { status: 'failed', nextAttemptAt: null, disableReason: 'The endpoint answered 410 Gone' };
  const failingFor = delivery.failingSince ? now.getTime() - delivery.failingSince.getTime() : 0;
  const disableReason = failingFor >= FAILING_LIMIT_MS ? 'Deliveries kept failing for 3 days' : null;
  if (delivery.retryable === false || !isRetryable(result) || disableReason || delivery.attempts > schedule.length) {
    return { status: 'failed', nextAttemptAt: null, disableReason };
  }
  const jittered = schedule[delivery.attempts - 1] * (0.8 + Math.random() * 0.4);
  const retryAfter = result.retryAfterSeconds !== null ? Math.min(Math.max(result.retryAfterSeconds, 1), MAX_RETRY_AFTER_SECONDS) : null;
  const delaySeconds = retryAfter ?? jittered;
  return { status: 'pending', nextAttemptAt: new Date(now.getTime() + delaySeconds * 1000), disableReason: null };
}

interface Pending {
  row: DeliveryOutcomeRow;
  delivery: ClaimedDelivery;
  decision: Decision;
}

/**
 * Records attempt outcomes: the delivery row, the attempt log, the subscription's failure clock, a log
 * line and metrics. Writes are batched (one statement at a time, with what came meanwhile, whatever the
 * delivery rate) on a connection of their own, so a pool busy with API traffic never holds an outcome in
 * memory for seconds (an outcome not written is a delivery sent again after a crash). A write the database
 * cut off is retried on a new connection rather than dropped.
 */
@Injectable()
export class DeliveryOutcomes implements OnApplicationShutdown {
  private readonly logger = new Logger('WebhookDelivery');
  private buffer: Array<{ pending: Pending; written: () => void }> = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private pool: pg.Pool | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly subscriptions: SubscriptionsService,
    private readonly events: DomainEventPublisher,
  ) {}

  /** Queues the outcome for the next batched write; resolves with the decision once it is written. */
  async record(delivery: ClaimedDelivery, result: AttemptResult): Promise<Decision> {
    const decision = decide(delivery, result, this.config.webhookRetrySchedule);
    const outcome = decision.status === 'pending' ? 'retrying' : decision.status;
    this.metrics.webhookDeliveries.inc({ outcome });
    if (result.succeeded) this.metrics.webhookEventLatency.observe((Date.now() - delivery.occurredAt.getTime()) / 1000);
    const line = {
      delivery_id: delivery.id,
      event: delivery.eventName,
      event_id: delivery.eventId,
      subscription_id: delivery.subscriptionId,
      target: delivery.targetUrl,
      attempt: delivery.attempts,
      status: result.statusCode,
      duration_ms: result.durationMs,
      error_code: result.errorCode,
      outcome,
      next_attempt_at: decision.nextAttemptAt?.toISOString() ?? null,
    };
    if (result.succeeded) this.logger.log(line, `delivered ${delivery.eventName} to ${delivery.targetUrl}`);
    else this.logger.warn({ ...line, error: result.errorMessage }, `failed ${delivery.eventName} to ${delivery.targetUrl} (${outcome})`);

    const row: DeliveryOutcomeRow = {
      attemptId: randomUUID(),
      deliveryId: delivery.id,
      subscriptionId: delivery.subscriptionId,
      succeeded: result.succeeded,
      status: decision.status,
      nextAttemptAt: decision.nextAttemptAt,
      attemptedAt: new Date(),
      statusCode: result.statusCode,
      durationMs: result.durationMs,
      errorCode: result.errorCode,
      errorMessage: result.errorMessage,
      responseExcerpt: result.responseExcerpt,
    };
    const pending: Pending = { row, delivery, decision };
    await new Promise<void>((written) => {
      this.buffer.push({ pending, written });
      this.scheduleWrite();
    });
    return decision;
  }

  /**
   * One writer at a time, taking everything buffered when it starts: a write that takes longer than
   * FLUSH_DELAY_MS makes the next batch bigger instead of queueing one small write per FLUSH_DELAY_MS behind
   * it (a queue that grew by seconds under load, each second an outcome a crash would send again).
   */
  private scheduleWrite(): void {
    if (this.writing || this.timer) return;
    if (this.buffer.length >= FLUSH_SIZE) void this.flush();
    else this.timer = setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
  }

  /** Writes everything buffered so far; resolves when it is written (or the failure is logged). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.writing ??= this.writeBuffered().finally(() => {
      this.writing = null;
      if (this.buffer.length > 0) this.scheduleWrite();
    });
    return this.writing;
  }

  private async writeBuffered(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, MAX_BATCH);
      try {
        await this.writeWithRetry(batch.map((entry) => entry.pending));
      } finally {
        for (const entry of batch) entry.written();
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
    const pool = this.pool;
    this.pool = null;
    await pool?.end();
  }

  /**
   * Writes the batch; when the database is unreachable (restart, failover), tries again on a fresh
   * connection with backoff. A batch still not written after WRITE_RETRY_FOR_MS is logged and left: its rows
   * keep their lease and fall due again (at-least-once, never lost).
   */
  private async writeWithRetry(batch: Pending[]): Promise<void> {
    const started = Date.now();
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.write(batch);
        if (attempt > 1) this.logger.warn(`Wrote ${batch.length} delivery outcomes after ${attempt} tries (the database was unavailable)`);
        return;
      } catch (error) {
        const retry = isDatabaseUnavailable(error) && Date.now() - started < WRITE_RETRY_FOR_MS;
        if (!retry) {
          this.logger.error(`Writing ${batch.length} delivery outcomes failed: ${error instanceof Error ? error.stack : String(error)}`);
          return;
        }
        if (attempt === 1) this.logger.warn(`Writing ${batch.length} delivery outcomes failed (${String(error)}); retrying on a new connection`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, WRITE_RETRY_MAX_DELAY_MS)));
      }
    }
  }

  /** The outcome writer's own connection (one; the pool drops a connection whose query failed and opens another). */
  private outcomePool(): pg.Pool {
    this.pool ??= dedicatedPool(this.dataSource, { applicationName: 'junction-crm-outcomes', logger: this.logger });
    return this.pool;
  }

  /** The batch's outcomes (one statement), then the subscriptions it must disable. */
  private async write(batch: Pending[]): Promise<void> {
    await this.deliveries.writeOutcomes(this.outcomePool(), batch.map((p) => p.row));
    const toDisable = new Map(batch.filter((p) => p.decision.disableReason).map((p) => [p.delivery.subscriptionId, p]));
    for (const { delivery, decision } of toDisable.values()) {
      if (await this.disable(delivery.tenantId, delivery.subscriptionId, decision.disableReason!)) {
        this.logger.warn({ subscription_id: delivery.subscriptionId, reason: decision.disableReason }, `disabled subscription ${delivery.subscriptionId}`);
      }
    }
  }

  /**
   * Disables a subscription with a reason, fails its pending deliveries, and tells the tenant's other
   * matching subscriptions through webhook.subscription.disabled, in one transaction. False if it was
   * disabled already.
   */
  private disable(tenantId: string, id: string, reason: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const disabled = await this.subscriptions.markDisabled(manager, tenantId, id, reason);
      if (!disabled) return false;
      await this.deliveries.failPending(manager, id, `Subscription disabled: ${reason}`);
      await this.events.publish(manager, tenantId, 'webhook.subscription.disabled', {
        subscription_id: id,
        subscription_event_name: disabled.eventName,
        target_url: disabled.targetUrl,
        reason,
        disabled_at: disabled.disabledAt.toISOString(),
      });
      return true;
    });
  }
}
