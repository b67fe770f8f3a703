import pg from 'pg';
import { DataSource, EntityManager, type QueryRunner } from 'typeorm';

/** Where a statement can run: the data source (any pooled connection), a transaction's manager, a query runner, or a pg pool of its own. */
export type SqlExecutor = DataSource | EntityManager | QueryRunner | pg.Pool;

export interface SqlResult<Row> {
  rows: Row[];
  /** Rows the statement affected (UPDATE, DELETE, INSERT) or returned (SELECT). */
  count: number;
}

/**
 * Runs one raw statement and answers with its rows and row count the same way whatever it is (a SELECT, an
 * UPDATE … RETURNING, a data-modifying CTE) and wherever it runs: TypeORM's plain `query()` returns rows for
 * some commands and `[rows, count]` for others, which callers would otherwise have to cast.
 */
export async function sql<Row = Record<string, unknown>>(db: SqlExecutor, text: string, params: unknown[] = []): Promise<SqlResult<Row>> {
  if (db instanceof pg.Pool) {
    const result = await db.query(text, params);
    return { rows: result.rows as Row[], count: result.rowCount ?? result.rows.length };
  }
  // A transaction's manager runs on its own query runner; the data source (or a manager outside a transaction)
  // lends a pooled connection for the one statement.
  const borrowed = db instanceof DataSource ? db.createQueryRunner() : db instanceof EntityManager && !db.queryRunner ? db.connection.createQueryRunner() : null;
  const runner = borrowed ?? (db instanceof EntityManager ? db.queryRunner! : (db as QueryRunner));
  try {
    const result = await runner.query(text, params, true);
    const rows = (result.records ?? []) as Row[];
    return { rows, count: result.affected ?? rows.length };
  } finally {
    await borrowed?.release();
  }
}

/**
 * The parameters of a statement put together from parts (data-modifying CTEs written in different modules):
 * each part binds its values here and writes the placeholder it gets back, so no part counts `$n` itself.
 */
export class SqlParams {
  readonly values: unknown[] = [];

  /** The placeholder (`$n`) of this value in the statement. */
  bind(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}
