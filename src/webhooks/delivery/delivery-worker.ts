import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { PgListener } from '../../database/pg-listener.js';
import { WakeableLoop } from '../../database/wakeable-loop.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { WebhookSecrets } from '../webhook-secrets.js';
import { DeliveryOutcomes, type ClaimedDelivery } from './delivery-outcomes.js';
import { DELIVERIES_CHANNEL } from './fan-out.listener.js';
import { signatureHeaders } from './signer.js';
import { WebhookHttpClient, type AttemptResult } from './webhook-http-client.js';

const CLAIM_BATCH = 100;
const POLL_JOB = 'webhook-delivery-poll';
const SHUTDOWN_GRACE_MS = 10_000;
const LEASE_MARGIN_SECONDS = 15;

/** The request body: compact JSON with the envelope first, exactly the bytes that are signed. */
export function serializeBody(payload: Record<string, unknown>): string {
  const { event_id, event_name, occurred_at, tenant_id, ...fields } = payload;
  return JSON.stringify({ event_id, event_name, occurred_at, tenant_id, ...fields });
}

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
  private inFlight = 0;
  private readonly inFlightBySubscription = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
  private readonly loop = new WakeableLoop(
    () => this.drain(),
    (error: unknown) => this.logger.error(`Delivery drain failed: ${error instanceof Error ? error.stack : String(error)}`),
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
   * How long a claim holds a delivery: the attempt's timeout plus a margin for writing its outcome. A
   * crashed instance's deliveries are taken over when it runs out.
   */
  get leaseSeconds(): number {
    return Math.ceil(this.config.webhookTimeoutMs / 1000) + LEASE_MARGIN_SECONDS;
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
    // Finish what is in flight (bounded by the HTTP timeout); anything unfinished falls due again after its lease.
    const deadline = new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref());
    await Promise.race([Promise.allSettled([this.loop.stop(), ...this.running]), deadline]);
    await this.outcomes.flush();
  }

  /** Asks for a drain of due deliveries (after new ones were committed, or slots freed up). */
  wake(): void {
    this.loop.wake();
  }

  private async drain(): Promise<void> {
    while (!this.loop.isStopped) {
      const free = this.config.webhookMaxConcurrency - this.inFlight;
      if (free <= 0) return;
      const claimed = await this.claimDueDeliveries(Math.min(free, CLAIM_BATCH));
      if (claimed.length === 0) return;
      const excess: string[] = [];
      for (const delivery of claimed) {
        const busy = this.inFlightBySubscription.get(delivery.subscriptionId) ?? 0;
        if (busy >= this.config.webhookMaxConcurrencyPerSubscription) excess.push(delivery.id);
        else this.start(delivery);
      }
      // Rows over a subscription's share go back to the queue at once, for the next free slot, uncounted.
      if (excess.length > 0) {
        await this.dataSource.query(`UPDATE webhook_deliveries SET next_attempt_at = now(), attempts = attempts - 1 WHERE id = ANY($1::uuid[])`, [excess]);
      }
      if (claimed.length < Math.min(free, CLAIM_BATCH)) return;
    }
  }

  /** Claims up to `limit` due deliveries, skipping rows other instances hold and subscriptions already at their share. */
  async claimDueDeliveries(limit: number): Promise<ClaimedDelivery[]> {
    const saturated = [...this.inFlightBySubscription].filter(([, n]) => n >= this.config.webhookMaxConcurrencyPerSubscription).map(([id]) => id);
    const [rows] = (await this.dataSource.query(
      `WITH due AS (
         SELECT id FROM webhook_deliveries
          WHERE status = 'pending' AND next_attempt_at <= now() AND subscription_id <> ALL($2::uuid[])
          ORDER BY next_attempt_at
          LIMIT $1
          FOR UPDATE SKIP LOCKED)
       UPDATE webhook_deliveries d
          SET next_attempt_at = now() + make_interval(secs => $3), attempts = d.attempts + 1
         FROM due, webhook_subscriptions s, domain_events e
        WHERE d.id = due.id AND s.id = d.subscription_id AND e.id = d.event_id
       RETURNING d.id, d.tenant_id, d.subscription_id, d.event_id, d.event_name, d.attempts,
                 e.payload, e.occurred_at, s.target_url, s.enabled, s.secret_encrypted, s.previous_secret_encrypted,
                 s.previous_secret_expires_at, s.headers_encrypted, s.failing_since`,
      [limit, saturated, this.leaseSeconds],
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

  private start(delivery: ClaimedDelivery): void {
    this.inFlight += 1;
    this.inFlightBySubscription.set(delivery.subscriptionId, (this.inFlightBySubscription.get(delivery.subscriptionId) ?? 0) + 1);
    const task = this.attempt(delivery)
      .then((result) => this.outcomes.record(delivery, result))
      .then((decision) => this.wakeAt(decision.nextAttemptAt))
      .catch((error: unknown) => this.logger.error(`Delivery ${delivery.id} could not be attempted: ${error instanceof Error ? error.stack : String(error)}`))
      .finally(() => {
        this.running.delete(task);
        this.inFlight -= 1;
        const left = (this.inFlightBySubscription.get(delivery.subscriptionId) ?? 1) - 1;
        if (left > 0) this.inFlightBySubscription.set(delivery.subscriptionId, left);
        else this.inFlightBySubscription.delete(delivery.subscriptionId);
        this.wake();
      });
    this.running.add(task);
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
    const headers = {
      ...secrets.custom,
      'Content-Type': 'application/json',
      'User-Agent': `JunctionCRM-Webhooks/${this.config.version}`,
      'X-Webhook-Event': delivery.eventName,
      ...signatureHeaders({
        id: delivery.eventId,
        timestamp: Math.floor(Date.now() / 1000),
        body,
        secret: secrets.secret,
        previousSecret: secrets.previousSecret,
      }),
    };
    const result = await this.client.post(delivery.targetUrl, body, headers);
    this.metrics.webhookAttemptDuration.observe(result.durationMs / 1000);
    return result;
  }
}
