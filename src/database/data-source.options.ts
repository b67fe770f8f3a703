import type { DataSourceOptions } from 'typeorm';
import { entities } from './entities.js';
import { migrations } from './migrations/index.js';
import { SnakeNamingStrategy } from './snake-naming.strategy.js';
import { TypeOrmLogger } from './typeorm-logger.js';

export interface DataSourceSettings {
  url: string;
  poolSize: number;
  migrationsRun: boolean;
}

/** The one data-source definition shared by the app, the CLI, ormconfig.ts and the tests. */
export function buildDataSourceOptions(settings: DataSourceSettings): DataSourceOptions {
  return {
    type: 'postgres',
    uuidExtension: 'pgcrypto',
    url: settings.url,
    entities,
    migrations,
    migrationsRun: settings.migrationsRun,
    migrationsTableName: 'migrations',
    synchronize: false,
    // The schema is the migrations' alone; a CREATE EXTENSION at every connect races between instances starting at once.
    installExtensions: false,
    namingStrategy: new SnakeNamingStrategy(),
    logger: new TypeOrmLogger(),
    maxQueryExecutionTime: 1000,
    extra: {
      max: settings.poolSize,
      application_name: 'junction-crm',
      // A connection that cannot be had within this long means the pool is saturated; fail instead of queueing forever.
      connectionTimeoutMillis: 10_000,
      // A transaction left open by a client that vanished (a host gone without closing its connection) is ended
      // by the server after this long, so its row locks (an inbound batch's claims, say) are not held for the
      // TCP timeout. The app's own transactions are short.
      idle_in_transaction_session_timeout: 60_000,
    },
  };
}
