import { MigrationExecutor, type DataSource, type Migration, type QueryRunner } from 'typeorm';

/** The advisory lock key every Junction CRM instance takes to migrate; any fixed int8 works, this spells "JCRMMIGR". */
export const MIGRATION_LOCK_KEY = '5351705651284838738';

const POLL_MS = 200;
const WAIT_LIMIT_MS = 15 * 60_000;

/**
 * Takes the lock by polling pg_try_advisory_lock: a session blocked in pg_advisory_lock holds a snapshot
 * open, which a CREATE INDEX CONCURRENTLY in the migrator's migrations would wait for (a deadlock).
 */
async function waitForLock(runner: QueryRunner): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (;;) {
    const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1::bigint) AS locked', [MIGRATION_LOCK_KEY])) as Array<{ locked: boolean }>;
    if (locked) return;
    if (Date.now() > deadline) throw new Error(`Another instance has held the migration lock for ${WAIT_LIMIT_MS / 60_000} minutes; is a migration stuck?`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * Runs the pending migrations while holding a PostgreSQL session advisory lock, so instances starting at
 * once on one database migrate one after the other: the second waits for the first, then finds nothing to
 * do. The lock goes with the session, so a crashed migrator never leaves it behind.
 */
export async function runMigrationsExclusively(dataSource: DataSource): Promise<Migration[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await waitForLock(runner);
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
