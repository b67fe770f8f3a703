import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/app.config.js';
import { isDatabaseUnavailable } from '../../common/http/database-unavailable.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { PgListener } from '../../database/pg-listener.js';
import { WakeableLoop } from '../../database/wakeable-loop.js';
import { serializeBody } from '../../events/event-envelope.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { WebhookSecrets } from '../webhook-secrets.js';
import { DeliveryOutcomes, type ClaimedDelivery } from './delivery-outcomes.js';
import { DELIVERIES_CHANNEL } from './fan-out.listener.js';
import { deliveryRequestHeaders } from './request-headers.js';
import { signatureHeaders } from './signer.js';
import { WebhookHttpClient, type AttemptResult } from './webhook-http-client.js';

const CLAIM_BATCH = 100;
const POLL_JOB = 'webhook-delivery-poll';
const SHUTDOWN_GRACE_MS = 10_000;
const LEASE_MARGIN_SECONDS = 15;

/**
 * Delivers pending webhook deliveries. Woken by NOTIFY right after a commit that created some, and by a
 * polling safety net. Claims due rows with FOR UPDATE SKIP LOCKED, pushing next_attempt_at forward as a
 * lease, so instances never send one row at once and a crashed instance's rows fall due again. Bounded
 * concurrency overall and per subscription: a slow endpoint holds only its own slots.
 */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DeliveryWorker.name);
  readonly client: WebhookHttpClient;
  /** HTTP exchanges under way, overall and per subscription. */
  private inFlight = 0;
  private readonly inFlightBySubscription = new Map<string, number>();
  /** Claimed (leased) deliveries waiting for a slot, per subscription: up to one more share each. */
  private readonly queued = new Map<string, ClaimedDelivery[]>();
  private queuedCount = 0;
  private readonly running = new Set<Promise<void>>();
  private readonly loop = new WakeableLoop(
    () => this.drain(),
    (error: unknown) =>
      isDatabaseUnavailable(error)
        ? this.logger.warn(`Delivery drain stopped: the database is unavailable (${String(error)}); the poll tries again`)
        : this.logger.error(`Delivery drain failed: ${error instanceof Error ? error.stack : String(error)}`),
  );

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly secrets: WebhookSecrets,
    private readonly outcomes: DeliveryOutcomes,
    private readonly metrics: MetricsService,
    private readonly listener: PgListener,
    private readonly scheduler: SchedulerRegistry,
  ) {
    this.client = new WebhookHttpClient(config.webhookTimeoutMs, config.webhookAllowPrivateTargets);
  }

  /**
   * How long a claim holds a delivery: a queued delivery may wait for one request to time out, then time
   * out itself, and its outcome is written after that. A crashed instance's deliveries are taken over when
   * it runs out.
   */
  get leaseSeconds(): number {
    return Math.ceil((2 * this.config.webhookTimeoutMs) / 1000) + LEASE_MARGIN_SECONDS;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.appRole === 'api') return;
    await this.loop.start({
      listener: this.listener,
      channel: DELIVERIES_CHANNEL,
      scheduler: this.scheduler,
      pollJob: POLL_JOB,
      pollIntervalMs: this.config.webhookPollIntervalMs,
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
    // Claimed but not started: back to the queue now, uncounted, for another instance.
    const waiting = [...this.queued.values()].flat().map((delivery) => delivery.id);
    this.queued.clear();
    this.queuedCount = 0;
    if (waiting.length > 0) {
      await this.dataSource.query(`UPDATE webhook_deliveries SET next_attempt_at = now(), attempts = attempts - 1 WHERE id = ANY($1::uuid[])`, [waiting]);
    }
    // Finish what is in flight (bounded by the HTTP timeout); anything unfinished falls due again after its lease.
    const deadline = new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref());
    await Promise.race([Promise.allSettled([...this.running]), deadline]);
    await this.outcomes.flush();
  }

  /** Asks for a drain of due deliveries (after new ones were committed, or slots freed up). */
  wake(): void {
    this.loop.wake();
  }

  /**
   * Claims due deliveries while there is room: each subscription may hold two shares (one in flight, one
   * queued), so a slot freed by a finished request is refilled from memory while the next claim runs.
   */
  private async drain(): Promise<void> {
    while (!this.loop.isStopped) {
      const room = 2 * this.config.webhookMaxConcurrency - this.inFlight - this.queuedCount;
      if (room <= 0) return;
      const limit = Math.min(room, CLAIM_BATCH);
      const claimed = await this.claimDueDeliveries(limit);
      if (this.loop.isStopped && claimed.length > 0) {
        // Claimed while shutting down: hand straight back.
        await this.dataSource.query(`UPDATE webhook_deliveries SET next_attempt_at = now(), attempts = attempts - 1 WHERE id = ANY($1::uuid[])`, [
          claimed.map((delivery) => delivery.id),
        ]);
        return;
      }
      if (this.loop.isStopped) return;
      for (const delivery of claimed) {
        const queue = this.queued.get(delivery.subscriptionId);
        if (queue) queue.push(delivery);
        else this.queued.set(delivery.subscriptionId, [delivery]);
        this.queuedCount += 1;
      }
      this.pump();
      if (claimed.length < limit) return;
    }
  }

  /** Starts queued deliveries wherever a subscription and the instance have a free slot. */
  private pump(): void {
    for (const [subscriptionId, queue] of this.queued) {
      while (
        queue.length > 0 &&
        this.inFlight < this.config.webhookMaxConcurrency &&
        (this.inFlightBySubscription.get(subscriptionId) ?? 0) < this.config.webhookMaxConcurrencyPerSubscription
      ) {
        this.queuedCount -= 1;
        this.start(queue.shift()!);
      }
      if (queue.length === 0) this.queued.delete(subscriptionId);
      if (this.inFlight >= this.config.webhookMaxConcurrency) return;
    }
  }

  /**
   * Claims up to `limit` due deliveries, oldest first, skipping rows other instances hold, and taking no more
   * per subscription than it has room for (two shares of WEBHOOK_MAX_CONCURRENCY_PER_SUBSCRIPTION, in flight
   * and queued, in this instance). A full subscription's rows are not even looked at, so a backlog behind a
   * slow endpoint never hides other subscriptions' rows.
   */
  async claimDueDeliveries(limit: number): Promise<ClaimedDelivery[]> {
    const perSubscription = 2 * this.config.webhookMaxConcurrencyPerSubscription;
    const held = new Map(this.inFlightBySubscription);
    for (const [id, queue] of this.queued) held.set(id, (held.get(id) ?? 0) + queue.length);
    const busy = [...held];
    const saturated = busy.filter(([, n]) => n >= perSubscription).map(([id]) => id);
    const [rows] = (await this.dataSource.query(
      `WITH candidates AS (
         SELECT id, subscription_id, next_attempt_at FROM webhook_deliveries
          WHERE status = 'pending' AND next_attempt_at <= now() AND subscription_id <> ALL($2::uuid[])
          ORDER BY next_attempt_at
          LIMIT $1 * 10),
       ranked AS (
         SELECT c.id, row_number() OVER (PARTITION BY c.subscription_id ORDER BY c.next_attempt_at) AS rank,
                $4::int - coalesce(b.in_flight, 0) AS free
           FROM candidates c LEFT JOIN unnest($5::uuid[], $6::int[]) AS b(subscription_id, in_flight) USING (subscription_id)),
       due AS (
         SELECT d.id FROM webhook_deliveries d JOIN ranked r ON r.id = d.id
          WHERE r.rank <= r.free AND d.status = 'pending' AND d.next_attempt_at <= now()
          ORDER BY d.next_attempt_at
          LIMIT $1
          FOR UPDATE OF d SKIP LOCKED)
       UPDATE webhook_deliveries d
          SET next_attempt_at = now() + make_interval(secs => $3), attempts = d.attempts + 1
         FROM due, webhook_subscriptions s, domain_events e
        WHERE d.id = due.id AND s.id = d.subscription_id AND e.id = d.event_id
       RETURNING d.id, d.tenant_id, d.subscription_id, d.event_id, d.event_name, d.attempts,
                 e.payload, e.occurred_at, s.target_url, s.enabled, s.secret_encrypted, s.previous_secret_encrypted,
                 s.previous_secret_expires_at, s.headers_encrypted, s.failing_since`,
      [limit, saturated, this.leaseSeconds, perSubscription, busy.map(([id]) => id), busy.map(([, n]) => n)],
    )) as [Array<Record<string, any>>, number];
    return rows.map((row) => ({
      id: row.id,
      tenantId: row.tenant_id,
      subscriptionId: row.subscription_id,
      eventId: row.event_id,
      eventName: row.event_name,
      attempts: row.attempts,
      payload: row.payload,
      occurredAt: new Date(row.occurred_at),
      targetUrl: row.target_url,
      enabled: row.enabled,
      secretEncrypted: row.secret_encrypted,
      previousSecretEncrypted: row.previous_secret_encrypted,
      previousSecretExpiresAt: row.previous_secret_expires_at ? new Date(row.previous_secret_expires_at) : null,
      headersEncrypted: row.headers_encrypted,
      failingSince: row.failing_since ? new Date(row.failing_since) : null,
    }));
  }

  /**
   * Sends one delivery in the background. Its concurrency slot is freed as soon as the HTTP exchange ends;
   * the outcome is written afterwards in a batch (the row stays leased until then).
   */
  private start(delivery: ClaimedDelivery): void {
    this.inFlight += 1;
    this.inFlightBySubscription.set(delivery.subscriptionId, (this.inFlightBySubscription.get(delivery.subscriptionId) ?? 0) + 1);
    const task = this.attempt(delivery)
      .finally(() => this.releaseSlot(delivery.subscriptionId))
      .then((result) => this.outcomes.record(delivery, result))
      .then((decision) => this.wakeAt(decision.nextAttemptAt))
      .catch((error: unknown) => this.logger.error(`Delivery ${delivery.id} could not be attempted: ${error instanceof Error ? error.stack : String(error)}`))
      .finally(() => this.running.delete(task));
    this.running.add(task);
  }

  private releaseSlot(subscriptionId: string): void {
    this.inFlight -= 1;
    const left = (this.inFlightBySubscription.get(subscriptionId) ?? 1) - 1;
    if (left > 0) this.inFlightBySubscription.set(subscriptionId, left);
    else this.inFlightBySubscription.delete(subscriptionId);
    if (this.loop.isStopped) return;
    this.pump();
    // Refill once this subscription's queue runs low (other subscriptions' new work comes by NOTIFY or poll).
    if ((this.queued.get(subscriptionId)?.length ?? 0) <= this.config.webhookMaxConcurrencyPerSubscription / 2) this.wake();
  }

  /** A retry due before the next poll gets a timer of its own, so short schedules are kept. */
  private wakeAt(when: Date | null): void {
    if (!when || this.loop.isStopped) return;
    const delay = when.getTime() - Date.now();
    if (delay < this.config.webhookPollIntervalMs) setTimeout(() => this.wake(), Math.max(delay, 0) + 5).unref();
  }

  /** Signs and sends one delivery; never throws for the receiver's sake (its failures are results). */
  async attempt(delivery: ClaimedDelivery): Promise<AttemptResult> {
    if (!delivery.enabled) {
      return { succeeded: false, statusCode: null, durationMs: 0, errorCode: null, errorMessage: 'Subscription is disabled', responseExcerpt: null, retryAfterSeconds: null };
    }
    let secrets: { secret: string; previousSecret: string | null; custom: Record<string, string> };
    try {
      secrets = { secret: this.secrets.secretOf(delivery), previousSecret: this.secrets.previousSecretOf(delivery), custom: this.secrets.headersOf(delivery) };
    } catch {
      // Not a receiver's fault and not transient: fail the delivery (it can be recovered once the key is fixed).
      return {
        succeeded: false,
        statusCode: null,
        durationMs: 0,
        errorCode: null,
        errorMessage: 'The subscription secret cannot be decrypted: SECRETS_ENCRYPTION_KEY differs from the one it was stored with',
        responseExcerpt: null,
        retryAfterSeconds: null,
      };
    }
    const body = serializeBody(delivery.payload);
    const headers = deliveryRequestHeaders({
      customHeaders: secrets.custom,
      version: this.config.version,
      eventName: delivery.eventName,
      signature: signatureHeaders({
        id: delivery.eventId,
        timestamp: Math.floor(Date.now() / 1000),
        body,
        secret: secrets.secret,
        previousSecret: secrets.previousSecret,
      }),
    });
    const result = await this.client.post(delivery.targetUrl, body, headers);
    this.metrics.webhookAttemptDuration.observe(result.durationMs / 1000);
    return result;
  }
}
