import { Injectable } from '@nestjs/common';
import type { ServerResponse } from 'node:http';

/** How long after its last response an instance still counts as answering requests (a steady load has gaps between them). */
const BUSY_FOR_MS = 100;
/** The event loop's utilization is measured over windows of at least this long. */
const UTILIZATION_WINDOW_MS = 100;
/** Busier than this, the loop has no time to spare: the API is waiting on it. */
const SATURATED_ABOVE = 0.9;

/**
 * The HTTP requests this instance is answering (from Fastify's onRequest to the response's close), and how
 * busy its event loop is, so that background work sharing the event loop with the API (the inbound
 * processor of an APP_ROLE=all instance) can give way to it while it is busy.
 */
@Injectable()
export class HttpActivity {
  private inFlight = 0;
  private lastFinishedAt = 0;
  private utilization = performance.eventLoopUtilization();
  private measuredAt = performance.now();
  private loopSaturated = false;

  /** Counts a request from now until its response closes (sent, or the client went away). */
  track(response: ServerResponse): void {
    this.inFlight += 1;
    response.once('close', this.finished);
  }

  /** A request is under way, or one ended less than BUSY_FOR_MS ago. */
  get busy(): boolean {
    return this.inFlight > 0 || performance.now() - this.lastFinishedAt < BUSY_FOR_MS;
  }

  /**
   * The event loop was busy more than 90 % of the time over the last window (measured when asked, over the
   * time since the previous measurement once that is 100 ms or more): work of its own would now delay requests.
   */
  get saturated(): boolean {
    const now = performance.now();
    if (now - this.measuredAt >= UTILIZATION_WINDOW_MS) {
      const current = performance.eventLoopUtilization();
      this.loopSaturated = performance.eventLoopUtilization(current, this.utilization).utilization > SATURATED_ABOVE;
      this.utilization = current;
      this.measuredAt = now;
    }
    return this.loopSaturated;
  }

  private readonly finished = (): void => {
    this.inFlight -= 1;
    this.lastFinishedAt = performance.now();
  };
}
