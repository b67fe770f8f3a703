import type { SchedulerRegistry } from '@nestjs/schedule';
import type { PgListener } from './pg-listener.js';

export interface LoopTriggers {
  listener: PgListener;
  /** The NOTIFY channel whose notifications wake the loop (sent on commit of new work). */
  channel: string;
  scheduler: SchedulerRegistry;
  /** The polling safety net's job name and interval. */
  pollJob: string;
  pollIntervalMs: number;
}

/**
 * Runs `work` whenever woken, never twice at once: a wake during a run makes it go round once more.
 * Woken by a PostgreSQL NOTIFY channel and by a polling safety net; used by the webhook delivery worker
 * and the inbound processor.
 */
export class WakeableLoop {
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private triggers: LoopTriggers | null = null;

  constructor(
    private readonly work: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  get isStopped(): boolean {
    return this.stopped;
  }

  async start(triggers: LoopTriggers): Promise<void> {
    this.triggers = triggers;
    await triggers.listener.listen(triggers.channel, () => this.wake());
    triggers.scheduler.addInterval(triggers.pollJob, setInterval(() => this.wake(), triggers.pollIntervalMs));
    this.wake();
  }

  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.again = false;
    this.running = this.work()
      .catch(this.onError)
      .finally(() => {
        this.running = null;
        if (this.again) this.wake();
      });
  }

  /** Stops waking and waits for the run in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    const triggers = this.triggers;
    if (triggers?.scheduler.doesExist('interval', triggers.pollJob)) triggers.scheduler.deleteInterval(triggers.pollJob);
    await this.running;
  }
}
