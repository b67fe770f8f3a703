import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, type EntityManager } from 'typeorm';
import { isDatabaseUnavailable } from '../../common/http/database-unavailable.js';
import { HttpActivity } from '../../common/http/http-activity.js';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { WakeableLoops, type WakeableLoop } from '../../database/wakeable-loop.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { InboundHandlers, InvalidPayloadError, type InboundHandler } from './handlers/inbound-handler.js';
import { INBOUND_CHANNEL, IntegrationEventRepository, type ClaimedEvent, type EventOutcome } from './integration-event.repository.js';

/** Events claimed and applied in one transaction. */
const BATCH = 25;
// Batch transactions at once per instance; each holds a pooled connection while it runs.
const CONCURRENCY = 8;
const MAX_ATTEMPTS = 5;
/** How often a lane that gives way to HTTP requests looks again (whether they are over, the drain is, or it stops); the first lane's pause between batches while the API is under heavy load. */
const GIVE_WAY_RECHECK_MS = 100;
const POLL_JOB = 'inbound-processing-poll';

/** A handler failed in a batch applied without savepoints: the batch is rolled back and run again with savepoints. */
class BatchNeedsSavepoints extends Error {}

/** Runs a step of a batch applied without savepoints: a failure (but a database outage) asks for the careful run. */
async function fast<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (isDatabaseUnavailable(error)) throw error;
    throw new BatchNeedsSavepoints(error instanceof Error ? error.message : String(error));
  }
}

/**
 * Processes inbound events: woken by the NOTIFY of each insert and by a polling safety net. A batch is one
 * transaction: it claims up to BATCH received events with FOR UPDATE SKIP LOCKED (their row locks keep every
 * other instance off them until it ends), applies each through its handler, and marks them processed, so an
 * event's record changes, domain events, deliveries and status commit together, once. A crash or a database
 * outage rolls the whole batch back: nothing was applied, and the events are due again at once.
 *
 * Batches run without savepoints (no statement per event beyond the handler's own). When a handler fails,
 * that batch is rolled back and run again at once with a savepoint per event, so the failure is recorded (a
 * retry with backoff, or failed for good) and the other events of the batch still commit.
 */
@Injectable()
export class InboundProcessor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(InboundProcessor.name);
  private readonly loop: WakeableLoop;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly events: IntegrationEventRepository,
    private readonly handlers: InboundHandlers,
    private readonly metrics: MetricsService,
    private readonly http: HttpActivity,
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
    // Waits for the batches under way (short transactions); nothing is left claimed.
    await this.loop.stop();
  }

  /**
   * One batch; when it comes back full there is a backlog, and CONCURRENCY lanes run batch after batch until
   * one comes back short (a single event costs one transaction, not one per lane). While this instance is
   * answering HTTP requests (an APP_ROLE=all instance shares its event loop with the API), the processor
   * gives way to them: only the first lane runs, and while the API is under heavy load (HttpActivity.loaded:
   * the loop saturated, or requests queueing) it runs one batch per GIVE_WAY_RECHECK_MS. A burst of inbound webhooks
   * is acknowledged at the API's full speed while the backlog still moves; the other lanes join once the API
   * is idle (HttpActivity.busy: no request in flight for 100 ms; they look again every GIVE_WAY_RECHECK_MS).
   */
  private async drain(): Promise<void> {
    if ((await this.runBatch()) < BATCH) return;
    let more = true;
    const lane = async (index: number) => {
      while (more && !this.loop.isStopped) {
        if (this.http.busy && (index > 0 || this.http.loaded)) {
          await sleep(GIVE_WAY_RECHECK_MS);
          // The first lane always runs its batch after the pause, so the backlog moves however busy the API.
          if (index > 0) continue;
        }
        if ((await this.runBatch()) < BATCH) more = false;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, index) => lane(index)));
  }

  /**
   * One batch transaction, without savepoints; when a handler fails it is rolled back (claims included) and
   * run again at once with a savepoint per event. How many events it claimed.
   */
  private async runBatch(): Promise<number> {
    try {
      return await this.applyBatch(false);
    } catch (error) {
      if (!(error instanceof BatchNeedsSavepoints)) throw error;
      return this.applyBatch(true);
    }
  }

  private async applyBatch(careful: boolean): Promise<number> {
    const applied = await this.dataSource.transaction(async (manager) => {
      const claimed = await this.events.claimDue(manager, BATCH);
      const outcomes: EventOutcome[] = [];
      if (careful) for (const event of claimed) outcomes.push(await this.applyInSavepoint(manager, event));
      else outcomes.push(...(await this.applyAll(manager, claimed)));
      await this.events.recordOutcomes(manager, outcomes);
      return { claimed, outcomes };
    });
    this.count(applied.claimed, applied.outcomes);
    return applied.claimed.length;
  }

  /**
   * Applies the batch without savepoints: the events of a handler with `handleMany` together, per tenant (one
   * call, fewer statements), the others one by one. Any failure rolls the batch back, to be run carefully.
   */
  private async applyAll(manager: EntityManager, claimed: ClaimedEvent[]): Promise<EventOutcome[]> {
    const outcomes = new Map<string, EventOutcome>();
    const groups = new Map<string, { handler: InboundHandler; tenantId: string; events: ClaimedEvent[]; parsed: unknown[] }>();
    for (const event of claimed) {
      const handler = this.handlers.get(event.event_name);
      if (!handler) {
        outcomes.set(event.id, { id: event.id, status: 'ignored' });
        continue;
      }
      const parsed = await fast(async () => handler.parse(event.payload));
      if (!handler.handleMany) {
        const result = await fast(() => handler.handle(this.contextOf(manager, event), parsed));
        outcomes.set(event.id, { id: event.id, status: 'processed', result });
        continue;
      }
      const key = `${event.event_name} ${event.tenant_id}`;
      const group = groups.get(key) ?? { handler, tenantId: event.tenant_id, events: [], parsed: [] };
      groups.set(key, group);
      group.events.push(event);
      group.parsed.push(parsed);
    }
    for (const { handler, tenantId, events, parsed } of groups.values()) {
      const results = await fast(() => handler.handleMany!(manager, tenantId, parsed));
      events.forEach((event, index) => outcomes.set(event.id, { id: event.id, status: 'processed', result: results[index] }));
    }
    return claimed.map((event) => outcomes.get(event.id)!);
  }

  /** Applies one event in a savepoint: a failure undoes only its own changes and becomes its outcome. */
  private async applyInSavepoint(manager: EntityManager, event: ClaimedEvent): Promise<EventOutcome> {
    const handler = this.handlers.get(event.event_name);
    if (!handler) return { id: event.id, status: 'ignored' };
    await manager.query('SAVEPOINT inbound_event');
    try {
      const result = await handler.handle(this.contextOf(manager, event), handler.parse(event.payload));
      await manager.query('RELEASE SAVEPOINT inbound_event');
      return { id: event.id, status: 'processed', result };
    } catch (error) {
      if (isDatabaseUnavailable(error)) throw error;
      await manager.query('ROLLBACK TO SAVEPOINT inbound_event');
      return this.failure(event, error);
    }
  }

  private contextOf(manager: EntityManager, event: ClaimedEvent) {
    return { eventId: event.id, tenantId: event.tenant_id, eventName: event.event_name, payload: event.payload, manager };
  }

  /** A bad payload fails at once; anything else is retried with exponential backoff, then fails. */
  private failure(event: ClaimedEvent, error: unknown): EventOutcome {
    const permanent = error instanceof InvalidPayloadError || event.attempts >= MAX_ATTEMPTS;
    const message = error instanceof Error ? error.message : String(error);
    return permanent ? { id: event.id, status: 'failed', message } : { id: event.id, status: 'received', message, retryInSeconds: 2 ** event.attempts };
  }

  /** After the commit: metrics, a log line per failure, and a wake-up for each retry. */
  private count(claimed: ClaimedEvent[], outcomes: EventOutcome[]): void {
    const committedAt = Date.now();
    const byId = new Map(claimed.map((event) => [event.id, event]));
    for (const outcome of outcomes) {
      const event = byId.get(outcome.id)!;
      const metric = outcome.status === 'received' ? 'retrying' : outcome.status;
      this.metrics.inboundProcessed.inc({ outcome: metric });
      if (outcome.status === 'processed' || outcome.status === 'ignored') {
        this.metrics.inboundLag.observe((committedAt - new Date(event.received_at).getTime()) / 1000);
        continue;
      }
      const line = { inbound_event_id: event.id, event: event.event_name, attempt: event.attempts, error: outcome.message };
      if (outcome.status === 'failed') this.logger.warn(line, `inbound ${event.event_name} failed: ${outcome.message}`);
      else {
        this.logger.warn(line, `inbound ${event.event_name} will be retried in ${outcome.retryInSeconds}s: ${outcome.message}`);
        setTimeout(() => this.loop.wake(), outcome.retryInSeconds * 1000 + 10).unref();
      }
    }
  }
}
