import type { PgListener } from '../database/pg-listener.js';

/** Longer than this and the LISTEN connection is treated as down for the call (the caller reads the database). */
const SYNC_TIMEOUT_MS = 250;

interface Connection {
  query(text: string): Promise<unknown>;
}

/**
 * What the token cache needs of PgListener's LISTEN connection beyond `listen()`: whether it is up, and a
 * barrier. PostgreSQL sends a listening session every notification committed before a command, ahead of that
 * command's answer, and pg dispatches them in order; so once a `SELECT 1` sent on that connection now has
 * answered, every revocation committed before now has reached the handlers. Concurrent callers share one
 * round trip: a caller that comes while one is in flight waits for the next, sent after it.
 *
 * PgListener does not offer either yet: both read its `client`, which it sets once connected and listening and
 * clears the moment the connection fails. Anything unexpected reads as "down", which costs the cache its hits,
 * never its correctness. (Moving `listening` and `sync()` into PgListener would make this file a pass-through.)
 */
export class ListenerBarrier {
  private inFlight: Promise<boolean> | null = null;
  private queued: Promise<boolean> | null = null;

  constructor(private readonly listener: PgListener) {}

  get listening(): boolean {
    return this.connection() !== null;
  }

  /** True once every notification committed before the call has been handled; false when the connection is down or too slow. */
  sync(): Promise<boolean> {
    if (this.queued) return this.queued;
    if (!this.inFlight) return this.send();
    this.queued = this.inFlight.then(() => {
      this.queued = null;
      return this.send();
    });
    return this.queued;
  }

  private send(): Promise<boolean> {
    const connection = this.connection();
    if (!connection) return Promise.resolve(false);
    let timer: NodeJS.Timeout | undefined;
    const answered = connection.query('SELECT 1').then(
      () => true,
      () => false,
    );
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), SYNC_TIMEOUT_MS);
    });
    const run: Promise<boolean> = Promise.race([answered, timedOut]).finally(() => {
      clearTimeout(timer);
      if (this.inFlight === run) this.inFlight = null;
    });
    this.inFlight = run;
    return run;
  }

  private connection(): Connection | null {
    const client: unknown = Reflect.get(this.listener, 'client');
    return typeof client === 'object' && client !== null && typeof (client as Connection).query === 'function' ? (client as Connection) : null;
  }
}
