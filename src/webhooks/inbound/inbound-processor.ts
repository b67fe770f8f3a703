import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { isDatabaseUnavailable } from '../../common/http/database-unavailable.js';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { WakeableLoops, type WakeableLoop } from '../../database/wakeable-loop.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { InboundHandlers, InvalidPayloadError } from './handlers/inbound-handler.js';
import { INBOUND_CHANNEL, IntegrationEventRepository, type ClaimedEvent } from './integration-event.repository.js';

const CLAIM_BATCH = 50;
// Events processed at once by one instance; each holds a pooled connection for its transaction.
const CONCURRENCY = 8;
const LEASE_SECONDS = 60;
const MAX_ATTEMPTS = 5;
const POLL_JOB = 'inbound-processing-poll';
// How often claims cut off by a database outage are offered back while the database stays away.
const RELEASE_RETRY_MS = 500;

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
  private readonly loop: WakeableLoop;
  /** Claims (id → attempt number) cut off by a database outage, to hand back as soon as it answers again. */
  private readonly toRelease = new Map<string, number>();
  private releaseTimer: NodeJS.Timeout | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly events: IntegrationEventRepository,
    private readonly handlers: InboundHandlers,
    private readonly metrics: MetricsService,
    loops: WakeableLoops,
  ) {
    this.loop = loops.create({
      work: () => this.drain(),
      onError: (error: unknown) =>
        isDatabaseUnavailable(error)
          ? this.logger.warn(`Inbound drain stopped: the database is unavailable (${String(error)}); the poll tries again`)
          : this.logger.error(`Inbound drain failed: ${error instanceof Error ? error.stack : String(error)}`),
      channel: INBOUND_CHANNEL,
      pollJob: POLL_JOB,
      pollIntervalMs: config.inboundPollIntervalMs,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.appRole === 'api') return;
    await this.loop.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    // Claims not handed back now go back when their lease runs out.
    await this.releaseCutOffClaims().catch((error: unknown) => this.logger.warn(`Handing back ${this.toRelease.size} cut-off claims at shutdown failed: ${String(error)}`));
  }

  private async drain(): Promise<void> {
    while (!this.loop.isStopped) {
      const claimed = await this.events.claimDue(CLAIM_BATCH, LEASE_SECONDS);
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

  /** Applies one claimed event; 'cut-off' when the database went away under it (the claim is then handed back). */
  private async process(event: ClaimedEvent): Promise<'done' | 'cut-off'> {
    const handler = this.handlers.get(event.event_name);
    try {
      await this.dataSource.transaction(async (manager) => {
        // The fence: still ours only if nobody re-claimed it (which would have bumped attempts).
        if (!(await this.events.lockIfStillClaimed(manager, event))) throw new LostLeaseError();
        if (!handler) {
          await this.events.markDone(manager, event.id, { status: 'ignored' });
          return;
        }
        const context = { eventId: event.id, tenantId: event.tenant_id, eventName: event.event_name, payload: event.payload, manager };
        const result = await handler.handle(context, handler.parse(event.payload));
        await this.events.markDone(manager, event.id, { status: 'processed', result });
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
    await this.events.handBack(batch);
    for (const [id, attempts] of batch) if (this.toRelease.get(id) === attempts) this.toRelease.delete(id);
    this.logger.warn(`Handed back ${batch.length} inbound events whose processing the database outage cut off`);
  }

  /** A bad payload fails at once; anything else is retried with exponential backoff, then fails. */
  private async recordFailure(event: ClaimedEvent, error: unknown): Promise<void> {
    const permanent = error instanceof InvalidPayloadError || event.attempts >= MAX_ATTEMPTS;
    const message = error instanceof Error ? error.message : String(error);
    const delaySeconds = 2 ** event.attempts;
    await this.events.recordFailure(event, { status: permanent ? 'failed' : 'received', message, retryInSeconds: delaySeconds });
    this.metrics.inboundProcessed.inc({ outcome: permanent ? 'failed' : 'retrying' });
    const line = { inbound_event_id: event.id, event: event.event_name, attempt: event.attempts, error: message };
    if (permanent) this.logger.warn(line, `inbound ${event.event_name} failed: ${message}`);
    else {
      this.logger.warn(line, `inbound ${event.event_name} will be retried in ${delaySeconds}s: ${message}`);
      setTimeout(() => this.loop.wake(), delaySeconds * 1000 + 10).unref();
    }
  }
}
