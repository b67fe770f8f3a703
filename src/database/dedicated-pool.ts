import type { Logger } from '@nestjs/common';
import pg from 'pg';
import type { DataSource } from 'typeorm';

export interface DedicatedPoolOptions {
  /** Its name in pg_stat_activity. */
  applicationName: string;
  /** Planner or session settings its statements need, set on each of its connections before the first statement. */
  settings?: Record<string, string>;
  /** Where a connection lost while idle is reported. */
  logger: Logger;
}

/**
 * One connection of a worker's own, beside the data source's pool, to the same database: statements on it never
 * wait for a pool busy with API traffic, and settings made for them (`settings`) apply to nothing else. The
 * settings are SET when the connection opens (the pool's onConnect, awaited before it hands the connection
 * out), rather than sent as startup options, which a session-mode pooler may refuse. A SET that fails fails the
 * statement that asked for the connection, which the caller reports. A connection that breaks is discarded by the
 * pool and the next statement opens another.
 */
export function dedicatedPool(dataSource: DataSource, { applicationName, settings = {}, logger }: DedicatedPoolOptions): pg.Pool {
  const options = dataSource.options as { url?: string };
  const statements = Object.entries(settings).map(([name, value]) => `SET ${pg.escapeIdentifier(name)} = ${pg.escapeLiteral(value)}`);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: 1,
    application_name: applicationName,
    connectionTimeoutMillis: 10_000,
    // pg-pool awaits the promise onConnect returns (@types/pg declares it void).
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    onConnect: statements.length > 0 ? async (client) => void (await client.query(statements.join('; '))) : undefined,
  });
  pool.on('error', (error) => logger.warn(`${applicationName}: connection lost (${error.message}); the next statement opens another`));
  return pool;
}
