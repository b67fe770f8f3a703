import { Injectable } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { PgListener } from './pg-listener.js';

/** What a worker's loop is: its work, how its errors are reported, and what wakes it. */
export interface LoopOptions {
  work: () => Promise<void>;
  onError: (error: unknown) => void;
  /** The NOTIFY channel whose notifications wake the loop (sent on commit of new work). */
  channel: string;
  /** The polling safety net's job name and interval. */
  pollJob: string;
  pollIntervalMs: number;
}

/**
 * Runs `work` whenever woken, never twice at once: a wake during a run makes it go round once more.
 * Once started it is woken by a PostgreSQL NOTIFY channel and by a polling safety net; used by the webhook
 * delivery worker and the inbound processor. Made by WakeableLoops.
 */
export class WakeableLoop {
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private started = false;

  constructor(
    private readonly options: LoopOptions,
    private readonly listener: PgListener,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  get isStopped(): boolean {
    return this.stopped;
  }

  async start(): Promise<void> {
    this.started = true;
    await this.listener.listen(this.options.channel, () => this.wake());
    this.scheduler.addInterval(this.options.pollJob, setInterval(() => this.wake(), this.options.pollIntervalMs));
    this.wake();
  }

  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.again = false;
    this.running = this.options
      .work()
      .catch(this.options.onError)
      .finally(() => {
        this.running = null;
        if (this.again) this.wake();
      });
  }

  /** Stops waking and waits for the run in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.started && this.scheduler.doesExist('interval', this.options.pollJob)) this.scheduler.deleteInterval(this.options.pollJob);
    await this.running;
  }
}

/** Makes the workers' loops, wired to the instance's one PgListener connection and the scheduler. */
@Injectable()
export class WakeableLoops {
  constructor(
    private readonly listener: PgListener,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  create(options: LoopOptions): WakeableLoop {
    return new WakeableLoop(options, this.listener, this.scheduler);
  }
}
