import { Injectable } from '@nestjs/common';
import type { ServerResponse } from 'node:http';

/** How long after its last response an instance still counts as answering requests (a steady load has gaps between them). */
const BUSY_FOR_MS = 100;
/** The event loop's utilization is measured over windows of at least this long. */
const UTILIZATION_WINDOW_MS = 100;
/** Busier than this, the loop has no time to spare: the API is waiting on it. */
const SATURATED_ABOVE = 0.9;
/**
 * This many requests in flight at once on average, they are queueing for the instance: clients sending as
 * fast as they are answered. A steady 2,000 inbound webhooks a second answered in 3–5 ms, which the processor
 * keeps up with, keep 6–10 in flight; a 50-connection load test about 45 (bench/README.md).
 */
const QUEUEING_AT = 32;
/** The time constant of the mean number of requests in flight (it weighs about the last 100 ms). */
const IN_FLIGHT_MEAN_MS = 50;

/**
 * The HTTP requests this instance is answering (from Fastify's onRequest to the response's close), and how
 * heavily loaded its API is, so that background work sharing the event loop with the API (the inbound
 * processor of an APP_ROLE=all instance) can give way to it.
 */
@Injectable()
export class HttpActivity {
  private inFlight = 0;
  private lastFinishedAt = 0;
  /** The mean of inFlight up to changedAt, exponentially weighted in time (IN_FLIGHT_MEAN_MS). */
  private meanInFlight = 0;
  private changedAt = performance.now();
  private utilization = performance.eventLoopUtilization();
  private measuredAt = performance.now();
  private loopSaturated = false;

  /** Counts a request from now until its response closes (sent, or the client went away). */
  track(response: ServerResponse): void {
    this.accumulate(performance.now());
    this.inFlight += 1;
    response.once('close', this.finished);
  }

  /** A request is under way, or one ended less than BUSY_FOR_MS ago. */
  get busy(): boolean {
    return this.inFlight > 0 || performance.now() - this.lastFinishedAt < BUSY_FOR_MS;
  }

  /**
   * The API is under heavy load: the event loop was busy more than 90 % of the last window (measured when
   * asked, over the time since the previous measurement once that is 100 ms or more), or requests are
   * queueing (QUEUEING_AT in flight on average over about the last 100 ms). Work of the instance's own would
   * now take the API's throughput.
   */
  get loaded(): boolean {
    const now = performance.now();
    this.accumulate(now);
    if (now - this.measuredAt >= UTILIZATION_WINDOW_MS) {
      const current = performance.eventLoopUtilization();
      this.loopSaturated = performance.eventLoopUtilization(current, this.utilization).utilization > SATURATED_ABOVE;
      this.utilization = current;
      this.measuredAt = now;
    }
    return this.loopSaturated || this.meanInFlight >= QUEUEING_AT;
  }

  /** Brings the mean number of requests in flight up to `now` (inFlight has been what it is since changedAt). */
  private accumulate(now: number): void {
    const kept = Math.exp((this.changedAt - now) / IN_FLIGHT_MEAN_MS);
    this.meanInFlight = this.meanInFlight * kept + this.inFlight * (1 - kept);
    this.changedAt = now;
  }

  private readonly finished = (): void => {
    const now = performance.now();
    this.accumulate(now);
    this.inFlight -= 1;
    this.lastFinishedAt = now;
  };
}
