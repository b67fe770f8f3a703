import { forwardRef, Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { isDatabaseUnavailable } from '../../common/http/database-unavailable.js';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { SubscriptionsService } from '../subscriptions/subscriptions.service.js';
import type { DeliveryStatus } from './webhook-delivery.entity.js';
import type { AttemptResult } from './webhook-http-client.js';

/** A delivery as the worker claimed it, with what it needs to send it. */
export interface ClaimedDelivery {
  id: string;
  tenantId: string;
  subscriptionId: string;
  eventId: string;
  eventName: string;
  /** Attempts including the one being made. */
  attempts: number;
  payload: Record<string, unknown>;
  occurredAt: Date;
  targetUrl: string;
  enabled: boolean;
  secretEncrypted: string;
  previousSecretEncrypted: string | null;
  previousSecretExpiresAt: Date | null;
  headersEncrypted: string | null;
  failingSince: Date | null;
  /** False for one-off sends (the test endpoint): a failure is final. */
  retryable?: boolean;
}

export interface Decision {
  status: DeliveryStatus;
  nextAttemptAt: Date | null;
  /** Set when the subscription must be disabled, with why. */
  disableReason: string | null;
}

const FAILING_LIMIT_MS = 3 * 24 * 3600 * 1000;
const MAX_RETRY_AFTER_SECONDS = 24 * 3600;
const FLUSH_SIZE = 200;
const FLUSH_DELAY_MS = 20;
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
  /** Chosen here so that writing a batch again after an unanswered COMMIT adds no second attempt row. */
  attemptId: string;
  delivery: ClaimedDelivery;
  result: AttemptResult;
  decision: Decision;
  attemptedAt: Date;
}

/**
 * Records attempt outcomes: the delivery row, the attempt log, the subscription's failure clock, a log
 * line and metrics. Writes are batched (a few statements per ~20 ms, whatever the delivery rate) on a
 * connection of their own, so a pool busy with API traffic never holds an outcome in memory for seconds
 * (an outcome not written is a delivery sent again after a crash). A write the database cut off is
 * retried on a new connection rather than dropped.
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
    @Inject(forwardRef(() => SubscriptionsService)) private readonly subscriptions: SubscriptionsService,
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

    const pending: Pending = { attemptId: randomUUID(), delivery, result, decision, attemptedAt: new Date() };
    await new Promise<void>((written) => {
      this.buffer.push({ pending, written });
      this.scheduleWrite();
    });
    return decision;
  }

  /**
   * One writer at a time, taking everything buffered when it starts: a write that takes longer than
   * FLUSH_DELAY_MS makes the next batch bigger instead of queueing one small write per 20 ms behind it (a queue
   * that grew by seconds under load, each second an outcome a crash would send again).
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
    if (!this.pool) {
      const options = this.dataSource.options as { url?: string };
      this.pool = new pg.Pool({ connectionString: options.url, max: 1, application_name: 'junction-crm-outcomes', connectionTimeoutMillis: 10_000 });
      // A connection dropped while idle is discarded by the pool; the next write opens another.
      this.pool.on('error', (error) => this.logger.warn(`Outcome writer's connection lost: ${error.message}`));
    }
    return this.pool;
  }

  /**
   * The whole batch in ONE statement (data-modifying CTEs, atomic like a transaction): the delivery rows, the
   * attempt log and the subscriptions' failure clock in a single round trip, which is what bounds how long an
   * outcome waits when the database is busy.
   */
  private async write(batch: Pending[]): Promise<void> {
    const succeeded = [...new Set(batch.filter((p) => p.result.succeeded).map((p) => p.delivery.subscriptionId))];
    const failed = [...new Set(batch.filter((p) => !p.result.succeeded).map((p) => p.delivery.subscriptionId))].filter((id) => !succeeded.includes(id));
    await this.outcomePool().query(
      `WITH deliveries AS (
         UPDATE webhook_deliveries d SET
            status = v.status,
            next_attempt_at = coalesce(v.next_attempt_at, d.next_attempt_at),
            last_status_code = v.status_code,
            last_error = v.error,
            completed_at = CASE WHEN v.status = 'pending' THEN NULL ELSE now() END
           FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::int[], $5::text[]) AS v(id, status, next_attempt_at, status_code, error)
          WHERE d.id = v.id
         RETURNING d.id),
       attempts AS (
         INSERT INTO webhook_delivery_attempts (id, delivery_id, attempted_at, status_code, duration_ms, error_code, error_message, response_excerpt)
         SELECT * FROM unnest($6::uuid[], $1::uuid[], $7::timestamptz[], $4::int[], $8::int[], $9::text[], $10::text[], $11::text[])
         ON CONFLICT (id) DO NOTHING
         RETURNING id),
       recovered AS (
         UPDATE webhook_subscriptions SET failing_since = NULL WHERE id = ANY($12::uuid[]) AND failing_since IS NOT NULL RETURNING id),
       failing AS (
         UPDATE webhook_subscriptions SET failing_since = now() WHERE id = ANY($13::uuid[]) AND failing_since IS NULL RETURNING id)
       SELECT (SELECT count(*) FROM deliveries) AS deliveries, (SELECT count(*) FROM attempts) AS attempts,
              (SELECT count(*) FROM recovered) AS recovered, (SELECT count(*) FROM failing) AS failing`,
      [
        batch.map((p) => p.delivery.id),
        batch.map((p) => p.decision.status),
        batch.map((p) => p.decision.nextAttemptAt),
        batch.map((p) => p.result.statusCode),
        batch.map((p) => (p.result.errorCode ? `${p.result.errorCode}: ${p.result.errorMessage}` : p.result.errorMessage)),
        batch.map((p) => p.attemptId),
        batch.map((p) => p.attemptedAt),
        batch.map((p) => p.result.durationMs),
        batch.map((p) => p.result.errorCode),
        batch.map((p) => p.result.errorMessage),
        batch.map((p) => p.result.responseExcerpt),
        succeeded,
        failed,
      ],
    );
    const toDisable = new Map(batch.filter((p) => p.decision.disableReason).map((p) => [p.delivery.subscriptionId, p]));
    for (const { delivery, decision } of toDisable.values()) {
      if (await this.subscriptions.disable(delivery.tenantId, delivery.subscriptionId, decision.disableReason!)) {
        this.logger.warn({ subscription_id: delivery.subscriptionId, reason: decision.disableReason }, `disabled subscription ${delivery.subscriptionId}`);
      }
    }
  }
}
