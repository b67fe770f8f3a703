import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { AppConfig } from '../../config/app.config.js';
import { isDatabaseUnavailable } from '../../common/http/database-unavailable.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { WakeableLoops, type WakeableLoop } from '../../database/wakeable-loop.js';
import { DeliveryOutcomes } from './delivery-outcomes.js';
import { DeliverySender } from './delivery-sender.js';
import type { ClaimedDelivery } from './delivery-rows.js';
import { DELIVERIES_CHANNEL, WebhookDeliveryRepository } from './webhook-delivery.repository.js';

const CLAIM_BATCH = 100;
const POLL_JOB = 'webhook-delivery-poll';
const SHUTDOWN_GRACE_MS = 10_000;
const LEASE_MARGIN_SECONDS = 15;
/**
 * Sends started per turn of the event loop. Starting one costs the loop a few hundred microseconds (the
 * request is built, signed and written synchronously), and every response that comes in frees a slot to
 * refill: unbounded, a turn would start as many sends as responses came (up to the instance's concurrency)
 * and hold an APP_ROLE=all instance's API requests for tens of milliseconds per turn. The rest start in the
 * turns after, once the I/O that came meanwhile has had its turn.
 */
export const SENDS_PER_TURN = 4;

/**
 * Delivers pending webhook deliveries. Woken by NOTIFY right after a commit that created some, and by a
 * polling safety net. Claims due rows with FOR UPDATE SKIP LOCKED, pushing next_attempt_at forward as a
 * lease, so instances never send one row at once and a crashed instance's rows fall due again. Bounded
 * concurrency overall and per subscription: a slow endpoint holds only its own slots.
 */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DeliveryWorker.name);
  /** HTTP exchanges under way, overall and per subscription. */
  private inFlight = 0;
  private readonly inFlightBySubscription = new Map<string, number>();
  /** Claimed (leased) deliveries waiting for a slot, per subscription: up to one more share each. */
  private readonly queued = new Map<string, ClaimedDelivery[]>();
  private queuedCount = 0;
  private readonly running = new Set<Promise<void>>();
  /** Sends this turn may still start. Below SENDS_PER_TURN exactly while the turn's end (which renews it) is scheduled. */
  private turnBudget = SENDS_PER_TURN;
  private readonly loop: WakeableLoop;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly sender: DeliverySender,
    private readonly outcomes: DeliveryOutcomes,
    loops: WakeableLoops,
  ) {
    this.loop = loops.create({
      work: () => this.drain(),
      onError: (error: unknown) =>
        isDatabaseUnavailable(error)
          ? this.logger.warn(`Delivery drain stopped: the database is unavailable (${String(error)}); the poll tries again`)
          : this.logger.error(`Delivery drain failed: ${error instanceof Error ? error.stack : String(error)}`),
      channel: DELIVERIES_CHANNEL,
      pollJob: POLL_JOB,
      pollIntervalMs: config.webhookPollIntervalMs,
    });
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
    await this.loop.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
    // Claimed but not started: back to the queue now, uncounted, for another instance.
    const waiting = [...this.queued.values()].flat().map((delivery) => delivery.id);
    this.queued.clear();
    this.queuedCount = 0;
    await this.deliveries.handBack(waiting);
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
        await this.deliveries.handBack(claimed.map((delivery) => delivery.id));
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

  /**
   * Starts queued deliveries wherever a subscription and the instance have a free slot, as many as this
   * turn's budget allows (SENDS_PER_TURN); the turn's end renews it and starts the others.
   */
  private pump(): void {
    for (const [subscriptionId, queue] of this.queued) {
      while (
        queue.length > 0 &&
        this.turnBudget > 0 &&
        this.inFlight < this.config.webhookMaxConcurrency &&
        (this.inFlightBySubscription.get(subscriptionId) ?? 0) < this.config.webhookMaxConcurrencyPerSubscription
      ) {
        this.queuedCount -= 1;
        this.spendTurnBudget();
        this.start(queue.shift()!);
      }
      if (queue.length === 0) this.queued.delete(subscriptionId);
      if (this.turnBudget === 0 || this.inFlight >= this.config.webhookMaxConcurrency) return;
    }
  }

  /**
   * The first send from a full budget schedules the turn's end: setImmediate runs after this turn's I/O
   * callbacks, and there the budget is renewed and what waits is started.
   */
  private spendTurnBudget(): void {
    if (this.turnBudget-- < SENDS_PER_TURN) return;
    setImmediate(() => {
      this.turnBudget = SENDS_PER_TURN;
      if (!this.loop.isStopped) this.pump();
    });
  }

  /** Claims what this instance has room for: two shares per subscription (in flight and queued). */
  private claimDueDeliveries(limit: number): Promise<ClaimedDelivery[]> {
    const held = new Map(this.inFlightBySubscription);
    for (const [id, queue] of this.queued) held.set(id, (held.get(id) ?? 0) + queue.length);
    return this.deliveries.claimDue({ limit, leaseSeconds: this.leaseSeconds, perSubscription: 2 * this.config.webhookMaxConcurrencyPerSubscription, held });
  }

  /**
   * Sends one delivery in the background. Its concurrency slot is freed as soon as the HTTP exchange ends;
   * the outcome is written afterwards in a batch (the row stays leased until then).
   */
  private start(delivery: ClaimedDelivery): void {
    this.inFlight += 1;
    this.inFlightBySubscription.set(delivery.subscriptionId, (this.inFlightBySubscription.get(delivery.subscriptionId) ?? 0) + 1);
    const task = this.sender
      .send(delivery)
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
}
