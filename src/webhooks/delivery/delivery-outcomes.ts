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
  private buffer: Pending[] = [];
  private scheduled: Promise<void> | null = null;
  private flushing: Promise<void> = Promise.resolve();
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

    this.buffer.push({ attemptId: randomUUID(), delivery, result, decision, attemptedAt: new Date() });
    if (this.buffer.length >= FLUSH_SIZE) await this.flush();
    else await (this.scheduled ??= new Promise((resolve) => setTimeout(resolve, FLUSH_DELAY_MS)).then(() => this.flush()));
    return decision;
  }

  /** Writes everything buffered so far; resolves when it is written (or the failure is logged). */
  flush(): Promise<void> {
    this.scheduled = null;
    const batch = this.buffer;
    this.buffer = [];
    this.flushing = this.flushing.then(() => (batch.length ? this.writeWithRetry(batch) : undefined));
    return this.flushing;
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

  /** The outcome writer's own connection (one, reopened by the pool after the database dropped it). */
  private outcomePool(): pg.Pool {
    if (!this.pool) {
      const options = this.dataSource.options as { url?: string };
      this.pool = new pg.Pool({ connectionString: options.url, max: 1, application_name: 'junction-crm-outcomes', connectionTimeoutMillis: 10_000 });
      // A connection dropped while idle is discarded by the pool; the next write opens another.
      this.pool.on('error', (error) => this.logger.warn(`Outcome writer's connection lost: ${error.message}`));
    }
    return this.pool;
  }

  private async write(batch: Pending[]): Promise<void> {
    await this.inTransaction(async (manager) => {
      await manager.query(
        `UPDATE webhook_deliveries d SET
            status = v.status,
            next_attempt_at = coalesce(v.next_attempt_at, d.next_attempt_at),
            last_status_code = v.status_code,
            last_error = v.error,
            completed_at = CASE WHEN v.status = 'pending' THEN NULL ELSE now() END
           FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::int[], $5::text[]) AS v(id, status, next_attempt_at, status_code, error)
          WHERE d.id = v.id`,
        [
          batch.map((p) => p.delivery.id),
          batch.map((p) => p.decision.status),
          batch.map((p) => p.decision.nextAttemptAt),
          batch.map((p) => p.result.statusCode),
          batch.map((p) => (p.result.errorCode ? `${p.result.errorCode}: ${p.result.errorMessage}` : p.result.errorMessage)),
        ],
      );
      await manager.query(
        `INSERT INTO webhook_delivery_attempts (id, delivery_id, attempted_at, status_code, duration_ms, error_code, error_message, response_excerpt)
         SELECT * FROM unnest($8::uuid[], $1::uuid[], $2::timestamptz[], $3::int[], $4::int[], $5::text[], $6::text[], $7::text[])
         ON CONFLICT (id) DO NOTHING`,
        [
          batch.map((p) => p.delivery.id),
          batch.map((p) => p.attemptedAt),
          batch.map((p) => p.result.statusCode),
          batch.map((p) => p.result.durationMs),
          batch.map((p) => p.result.errorCode),
          batch.map((p) => p.result.errorMessage),
          batch.map((p) => p.result.responseExcerpt),
          batch.map((p) => p.attemptId),
        ],
      );
      const succeeded = [...new Set(batch.filter((p) => p.result.succeeded).map((p) => p.delivery.subscriptionId))];
      const failed = [...new Set(batch.filter((p) => !p.result.succeeded).map((p) => p.delivery.subscriptionId))].filter((id) => !succeeded.includes(id));
      if (succeeded.length) {
        await manager.query(`UPDATE webhook_subscriptions SET failing_since = NULL WHERE id = ANY($1::uuid[]) AND failing_since IS NOT NULL`, [succeeded]);
      }
      if (failed.length) {
        await manager.query(`UPDATE webhook_subscriptions SET failing_since = now() WHERE id = ANY($1::uuid[]) AND failing_since IS NULL`, [failed]);
      }
    });
    const toDisable = new Map(batch.filter((p) => p.decision.disableReason).map((p) => [p.delivery.subscriptionId, p]));
    for (const { delivery, decision } of toDisable.values()) {
      if (await this.subscriptions.disable(delivery.tenantId, delivery.subscriptionId, decision.disableReason!)) {
        this.logger.warn({ subscription_id: delivery.subscriptionId, reason: decision.disableReason }, `disabled subscription ${delivery.subscriptionId}`);
      }
    }
  }

  /** Runs `work` in one transaction on the outcome writer's connection; a broken connection is discarded. */
  private async inTransaction(work: (manager: { query: (text: string, values: unknown[]) => Promise<unknown> }) => Promise<void>): Promise<void> {
    const client = await this.outcomePool().connect();
    let broken: Error | undefined;
    // A checked-out client has no pool listener: without this, a server shutdown between two statements
    // would be an unhandled 'error' event (the statement that follows fails and is retried).
    const onError = (error: Error) => (broken = error);
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      await work({ query: (text, values) => client.query(text, values) });
      await client.query('COMMIT');
    } catch (error) {
      broken = error instanceof Error ? error : new Error(String(error));
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.removeListener('error', onError);
      // A client released with an error is closed, so the next write gets a fresh connection.
      client.release(broken && isDatabaseUnavailable(broken) ? broken : undefined);
    }
  }
}
