import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { PgListener } from '../../database/pg-listener.js';
import { WakeableLoop } from '../../database/wakeable-loop.js';
import { isDatabaseUnavailable } from '../../common/http/database-unavailable.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { INBOUND_HANDLERS, InvalidPayloadError, type InboundHandler } from './handlers/inbound-handler.js';
import { INBOUND_CHANNEL } from './inbound.service.js';

const CLAIM_BATCH = 50;
// Events processed at once by one instance; each holds a pooled connection for its transaction.
const CONCURRENCY = 8;
const LEASE_SECONDS = 60;
const MAX_ATTEMPTS = 5;
const POLL_JOB = 'inbound-processing-poll';
// How often claims cut off by a database outage are offered back while the database stays away.
const RELEASE_RETRY_MS = 500;

interface ClaimedEvent {
  id: string;
  tenant_id: string;
  event_name: string;
  payload: Record<string, unknown>;
  attempts: number;
  received_at: Date;
}

/** Another instance took the row over (our lease ran out): leave it to that one. */
class LostLeaseError extends Error {}

/**
 * Processes inbound events: woken by the NOTIFY of each insert and by a polling safety net. Claims
 * received rows (and processing rows whose lease ran out) with FOR UPDATE SKIP LOCKED; each event's
 * handler runs in one transaction with its domain events and the status change, fenced by the claim's
 * attempt number, so no two instances ever apply one event.
 */
@Injectable()
export class InboundProcessor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(InboundProcessor.name);
  private readonly handlers: Map<string, InboundHandler>;
  private readonly loop = new WakeableLoop(
    () => this.drain(),
    (error: unknown) =>
      isDatabaseUnavailable(error)
        ? this.logger.warn(`Inbound drain stopped: the database is unavailable (${String(error)}); the poll tries again`)
        : this.logger.error(`Inbound drain failed: ${error instanceof Error ? error.stack : String(error)}`),
  );
  /** Claims (id → attempt number) cut off by a database outage, to hand back as soon as it answers again. */
  private readonly toRelease = new Map<string, number>();
  private releaseTimer: NodeJS.Timeout | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(INBOUND_HANDLERS) handlers: InboundHandler[],
    private readonly listener: PgListener,
    private readonly scheduler: SchedulerRegistry,
    private readonly metrics: MetricsService,
  ) {
    this.handlers = new Map(handlers.map((handler) => [handler.eventName, handler]));
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.appRole === 'api') return;
    await this.loop.start({
      listener: this.listener,
      channel: INBOUND_CHANNEL,
      scheduler: this.scheduler,
      pollJob: POLL_JOB,
      pollIntervalMs: this.config.inboundPollIntervalMs,
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    // Claims not handed back now go back when their lease runs out.
    await this.releaseCutOffClaims().catch((error: unknown) => this.logger.warn(`Handing back ${this.toRelease.size} cut-off claims at shutdown failed: ${String(error)}`));
  }

  private async drain(): Promise<void> {
    while (!this.loop.isStopped) {
      const claimed = await this.claimDueEvents(CLAIM_BATCH);
      if (claimed.length === 0) return;
      let next = 0;
      let cutOff = false;
      const lane = async () => {
        while (next < claimed.length) {
          const event = claimed[next++];
          // Once the database is gone, the rest of the batch is handed back rather than tried one by one.
          if (cutOff) this.releaseSoon(event);
          else if ((await this.process(event)) === 'cut-off') cutOff = true;
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, claimed.length) }, lane));
      if (cutOff || claimed.length < CLAIM_BATCH) return;
    }
  }

  async claimDueEvents(limit: number): Promise<ClaimedEvent[]> {
    const [rows] = (await this.dataSource.query(
      `WITH due AS (
         SELECT id FROM integration_events
          WHERE status IN ('received', 'processing') AND next_attempt_at <= now()
          ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       UPDATE integration_events e
          SET status = 'processing', attempts = e.attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
         FROM due WHERE e.id = due.id
       RETURNING e.id, e.tenant_id, e.event_name, e.payload, e.attempts, e.received_at`,
      [limit, LEASE_SECONDS],
    )) as [ClaimedEvent[], number];
    return rows;
  }

  /** Applies one claimed event; 'cut-off' when the database went away under it (the claim is then handed back). */
  private async process(event: ClaimedEvent): Promise<'done' | 'cut-off'> {
    const handler = this.handlers.get(event.event_name);
    try {
      await this.dataSource.transaction(async (manager) => {
        // The fence: still ours only if nobody re-claimed it (which would have bumped attempts).
        const [owned] = await manager.query<unknown[]>(
          `SELECT 1 FROM integration_events WHERE id = $1 AND status = 'processing' AND attempts = $2 FOR UPDATE`,
          [event.id, event.attempts],
        );
        if (!owned) throw new LostLeaseError();
        if (!handler) {
          await manager.query(`UPDATE integration_events SET status = 'ignored', processed_at = now(), error_message = NULL WHERE id = $1`, [event.id]);
          return;
        }
        const context = { eventId: event.id, tenantId: event.tenant_id, eventName: event.event_name, payload: event.payload, manager };
        const result = await handler.handle(context, handler.parse(event.payload));
        await manager.query(`UPDATE integration_events SET status = 'processed', result = $2, processed_at = now(), error_message = NULL WHERE id = $1`, [
          event.id,
          JSON.stringify(result),
        ]);
      });
      this.metrics.inboundProcessed.inc({ outcome: handler ? 'processed' : 'ignored' });
      this.metrics.inboundLag.observe((Date.now() - new Date(event.received_at).getTime()) / 1000);
      return 'done';
    } catch (error) {
      if (error instanceof LostLeaseError) return 'done';
      if (!isDatabaseUnavailable(error)) {
        try {
          await this.recordFailure(event, error);
          return 'done';
        } catch (failure) {
          if (!isDatabaseUnavailable(failure)) throw failure;
        }
      }
      this.releaseSoon(event);
      return 'cut-off';
    }
  }

  /**
   * The claim's transaction or connection died with the database: the event was not applied (or, if its
   * commit got through, the fence below finds it processed). It is handed back, due at once, as soon as the
   * database answers, instead of waiting LEASE_SECONDS for the lease to run out.
   */
  private releaseSoon(event: ClaimedEvent): void {
    this.toRelease.set(event.id, event.attempts);
    this.scheduleRelease();
  }

  private scheduleRelease(): void {
    if (this.releaseTimer || this.toRelease.size === 0 || this.loop.isStopped) return;
    this.releaseTimer = setTimeout(() => {
      this.releaseCutOffClaims()
        .then(() => this.loop.wake())
        .catch((error: unknown) => {
          if (!isDatabaseUnavailable(error)) this.logger.warn(`Handing back ${this.toRelease.size} inbound claims failed: ${String(error)}`);
        })
        .finally(() => {
          this.releaseTimer = null;
          // Still away: try again shortly (the lease is only the last resort).
          this.scheduleRelease();
        });
    }, RELEASE_RETRY_MS);
    this.releaseTimer.unref();
  }

  /** Makes the cut-off claims due again (fenced by their attempt number: a row re-claimed since is left alone). */
  private async releaseCutOffClaims(): Promise<void> {
    if (this.toRelease.size === 0) return;
    const batch = [...this.toRelease];
    await this.dataSource.query(
      `UPDATE integration_events e SET status = 'received', next_attempt_at = now()
         FROM unnest($1::uuid[], $2::int[]) AS r(id, attempts)
        WHERE e.id = r.id AND e.attempts = r.attempts AND e.status = 'processing'`,
      [batch.map(([id]) => id), batch.map(([, attempts]) => attempts)],
    );
    for (const [id, attempts] of batch) if (this.toRelease.get(id) === attempts) this.toRelease.delete(id);
    this.logger.warn(`Handed back ${batch.length} inbound events whose processing the database outage cut off`);
  }

  /** A bad payload fails at once; anything else is retried with exponential backoff, then fails. */
  private async recordFailure(event: ClaimedEvent, error: unknown): Promise<void> {
    const permanent = error instanceof InvalidPayloadError || event.attempts >= MAX_ATTEMPTS;
    const message = error instanceof Error ? error.message : String(error);
    const delaySeconds = 2 ** event.attempts;
    await this.dataSource.query(
      `UPDATE integration_events
          SET status = $3, error_message = $4,
              next_attempt_at = CASE WHEN $3 = 'received' THEN now() + make_interval(secs => $5) ELSE next_attempt_at END,
              processed_at = CASE WHEN $3 = 'failed' THEN now() ELSE NULL END
        WHERE id = $1 AND attempts = $2 AND status = 'processing'`,
      [event.id, event.attempts, permanent ? 'failed' : 'received', message, delaySeconds],
    );
    this.metrics.inboundProcessed.inc({ outcome: permanent ? 'failed' : 'retrying' });
    const line = { inbound_event_id: event.id, event: event.event_name, attempt: event.attempts, error: message };
    if (permanent) this.logger.warn(line, `inbound ${event.event_name} failed: ${message}`);
    else {
      this.logger.warn(line, `inbound ${event.event_name} will be retried in ${delaySeconds}s: ${message}`);
      setTimeout(() => this.loop.wake(), delaySeconds * 1000 + 10).unref();
    }
  }
}
