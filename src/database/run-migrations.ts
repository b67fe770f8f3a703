import { MigrationExecutor, type DataSource, type Migration } from 'typeorm';

/** The advisory lock key every Junction CRM instance takes to migrate; any fixed int8 works, this spells "JCRMMIGR". */
export const MIGRATION_LOCK_KEY = '5351705651284838738';

/**
 * Runs the pending migrations while holding a PostgreSQL session advisory lock, so instances starting at
 * once on one database migrate one after the other: the second waits for the first, then finds nothing to
 * do. The lock goes with the session, so a crashed migrator never leaves it behind.
 */
export async function runMigrationsExclusively(dataSource: DataSource): Promise<Migration[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    try {
      // On the lock's own connection, so a pool of one connection is enough.
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'each';
      return await executor.executePendingMigrations();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}
