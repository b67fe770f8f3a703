import { Injectable } from '@nestjs/common';
import type { ServerResponse } from 'node:http';

/** How long after its last response an instance still counts as answering requests (a steady load has gaps between them). */
const BUSY_FOR_MS = 100;

/**
 * The HTTP requests this instance is answering (from Fastify's onRequest to the response's close), so that
 * background work sharing the event loop with the API (the inbound processor of an APP_ROLE=all instance)
 * can give way to it while it is busy.
 */
@Injectable()
export class HttpActivity {
  private inFlight = 0;
  private lastFinishedAt = 0;

  /** Counts a request from now until its response closes (sent, or the client went away). */
  track(response: ServerResponse): void {
    this.inFlight += 1;
    response.once('close', this.finished);
  }

  /** A request is under way, or one ended less than BUSY_FOR_MS ago. */
  get busy(): boolean {
    return this.inFlight > 0 || performance.now() - this.lastFinishedAt < BUSY_FOR_MS;
  }

  private readonly finished = (): void => {
    this.inFlight -= 1;
    this.lastFinishedAt = performance.now();
  };
}
