import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import pg from 'pg';
import { DataSource } from 'typeorm';

type Handler = () => void;

const NOTIFY_COALESCE_MS = 20;
/** A barrier (sync) answered later than this counts as the connection being down, for that call. */
const SYNC_TIMEOUT_MS = 250;

/**
 * One dedicated connection that LISTENs for the app's NOTIFY channels and calls their handlers; it
 * reconnects after a dropped connection and then calls every handler once, in case a notification was missed.
 */
@Injectable()
export class PgListener implements OnApplicationShutdown {
  private readonly logger = new Logger(PgListener.name);
  private readonly handlers = new Map<string, Handler[]>();
  private client: pg.Client | null = null;
  private connecting: Promise<void> | null = null;
  private closed = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly pendingNotifies = new Map<string, NodeJS.Timeout>();
  private syncInFlight: Promise<boolean> | null = null;
  private syncQueued: Promise<boolean> | null = null;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async listen(channel: string, handler: Handler): Promise<void> {
    const known = this.handlers.get(channel);
    if (known) known.push(handler);
    else this.handlers.set(channel, [handler]);
    await this.connect();
    if (!known) await this.client?.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
  }

  /** Whether the LISTEN connection is up (connected and listening on every channel asked for). */
  get listening(): boolean {
    return this.client !== null;
  }

  /**
   * A barrier: true once every notification committed before the call has reached its handlers; false when
   * the connection is down or slower than SYNC_TIMEOUT_MS. PostgreSQL sends a listening session every
   * notification committed before a command ahead of that command's answer, and pg dispatches them in order,
   * so a `SELECT 1` answered on this connection is the barrier. Concurrent callers share one round trip: one
   * that comes while a barrier is in flight waits for the next, sent after it.
   */
  sync(): Promise<boolean> {
    if (this.syncQueued) return this.syncQueued;
    if (!this.syncInFlight) return this.sendSync();
    this.syncQueued = this.syncInFlight.then(() => {
      this.syncQueued = null;
      return this.sendSync();
    });
    return this.syncQueued;
  }

  private sendSync(): Promise<boolean> {
    const client = this.client;
    if (!client) return Promise.resolve(false);
    let timer: NodeJS.Timeout | undefined;
    const answered = client.query('SELECT 1').then(
      () => true,
      // A failed query is a failed connection: its error handler reconnects; this call reads as "down".
      () => false,
    );
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), SYNC_TIMEOUT_MS);
    });
    const run: Promise<boolean> = Promise.race([answered, timedOut]).finally(() => {
      clearTimeout(timer);
      if (this.syncInFlight === run) this.syncInFlight = null;
    });
    this.syncInFlight = run;
    return run;
  }

  private connect(): Promise<void> {
    if (this.client || this.closed) return Promise.resolve();
    this.connecting ??= this.open().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async open(): Promise<void> {
    const options = this.dataSource.options as { url?: string };
    const client = new pg.Client({ connectionString: options.url, application_name: 'junction-crm-listener' });
    client.on('notification', (message) => this.dispatch(message.channel));
    client.on('error', (error) => {
      this.logger.warn(`LISTEN connection lost (${error.message}); reconnecting`);
      this.drop(client);
    });
    await client.connect();
    for (const channel of this.handlers.keys()) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    this.client = client;
  }

  private drop(client: pg.Client): void {
    if (this.client === client) this.client = null;
    client.removeAllListeners('notification');
    void client.end().catch(() => undefined);
    this.scheduleReconnect();
  }

  /** Reconnects in a second, then wakes every handler, since notifications sent meanwhile were lost. */
  private scheduleReconnect(): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect()
        .then(() => {
          for (const channel of this.handlers.keys()) this.dispatch(channel);
        })
        .catch((error: unknown) => {
          this.logger.warn(`LISTEN reconnect failed (${String(error)}); trying again`);
          this.scheduleReconnect();
        });
    }, 1000);
  }

  /**
   * Wakes this instance's handlers of `channel` at once, and other instances' through a NOTIFY sent at most
   * once per NOTIFY_COALESCE_MS. For work that is already committed: a NOTIFY per insert would make commits
   * queue on PostgreSQL's notification lock.
   */
  notifySoon(channel: string): void {
    this.dispatch(channel);
    if (this.closed || this.pendingNotifies.has(channel)) return;
    this.pendingNotifies.set(
      channel,
      setTimeout(() => {
        this.pendingNotifies.delete(channel);
        this.dataSource.query(`SELECT pg_notify($1, '')`, [channel]).catch((error: unknown) => {
          // The other instances' polling safety net picks the work up regardless.
          this.logger.warn(`NOTIFY ${channel} failed: ${String(error)}`);
        });
      }, NOTIFY_COALESCE_MS),
    );
  }

  private dispatch(channel: string): void {
    for (const handler of this.handlers.get(channel) ?? []) handler();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const timer of this.pendingNotifies.values()) clearTimeout(timer);
    const client = this.client;
    this.client = null;
    if (client) await client.end();
  }
}
