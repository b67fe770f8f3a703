import pg from 'pg';
import { DataSource, QueryFailedError } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDataSourceOptions } from '../src/database/data-source.options.js';
import { sql } from '../src/database/sql.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

/**
 * sql()'s `prepare` option: the statement is sent as a named prepared statement, so PostgreSQL parses and
 * plans it once per connection. Checked on the server (pg_prepared_statements of the one pooled connection),
 * through TypeORM (data source, transaction) and through a pg pool alike.
 */
describe('sql() with prepare', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let pool: pg.Pool;

  beforeAll(async () => {
    database = await createTestDatabase();
    // One connection each, so every statement below runs on the session whose prepared statements are read.
    dataSource = new DataSource(buildDataSourceOptions({ url: database.url, poolSize: 1, migrationsRun: false }));
    await dataSource.initialize();
    pool = new pg.Pool({ connectionString: database.url, max: 1 });
  });

  afterAll(async () => {
    await pool?.end();
    await dataSource?.destroy();
    await database?.drop();
  });

  const preparedOn = async (db: DataSource | pg.Pool) =>
    (await sql<{ name: string; statement: string }>(db, 'SELECT name, statement FROM pg_prepared_statements ORDER BY name')).rows;

  it('prepares the statement once per connection and reuses it, in and out of a transaction', async () => {
    const text = 'SELECT $1::int + 1 AS n';
    expect((await sql<{ n: number }>(dataSource, text, [1], { prepare: true })).rows).toEqual([{ n: 2 }]);
    expect((await sql<{ n: number }>(dataSource, text, [2], { prepare: true })).rows).toEqual([{ n: 3 }]);
    const inTransaction = await dataSource.transaction((manager) => sql<{ n: number }>(manager, text, [3], { prepare: true }));
    expect(inTransaction.rows).toEqual([{ n: 4 }]);
    // A statement without the option is not kept.
    await sql(dataSource, 'SELECT $1::int * 2 AS n', [5]);

    const prepared = await preparedOn(dataSource);
    expect(prepared).toHaveLength(1);
    expect(prepared[0]).toEqual({ name: expect.stringMatching(/^junction_[\w-]{24}$/), statement: text });
  });

  it('gives the same text the same name on every connection (a pg pool here)', async () => {
    const text = 'SELECT $1::int + 1 AS n';
    expect((await sql<{ n: number }>(pool, text, [41], { prepare: true })).rows).toEqual([{ n: 42 }]);
    expect((await sql<{ n: number }>(pool, text, [42], { prepare: true })).count).toBe(1);
    const [onPool] = await preparedOn(pool);
    const [onDataSource] = await preparedOn(dataSource);
    expect(onPool).toEqual(onDataSource);
  });

  it('a prepared statement that fails rejects as any query does (TypeORM QueryFailedError with the driver error), and the connection goes on', async () => {
    const text = 'SELECT 10 / $1::int AS n';
    const failure = await sql(dataSource, text, [0], { prepare: true }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(QueryFailedError);
    expect((failure as QueryFailedError & { driverError: { code: string } }).driverError.code).toBe('22012');
    expect((await sql<{ n: number }>(dataSource, text, [5], { prepare: true })).rows).toEqual([{ n: 2 }]);
  });
});
