import { hash } from 'node:crypto';
import pg from 'pg';
import { DataSource, EntityManager, type QueryRunner } from 'typeorm';

/** Where a statement can run: the data source (any pooled connection), a transaction's manager, a query runner, or a pg pool of its own. */
export type SqlExecutor = DataSource | EntityManager | QueryRunner | pg.Pool;

export interface SqlResult<Row> {
  rows: Row[];
  /** Rows the statement affected (UPDATE, DELETE, INSERT) or returned (SELECT). */
  count: number;
}

export interface SqlOptions {
  /**
   * Run it as a named prepared statement: PostgreSQL parses and plans it once per connection and reuses the
   * plan, instead of both on every call (a millisecond of the server's CPU for the batch statements of the hot
   * paths). For statements that run often with the same text and whose plan does not depend on the values
   * bound (inserts from bound arrays, say) — not for queries whose best plan varies with them, unless their
   * connection's settings leave them one plan (the delivery claim: CLAIM_SESSION_SETTINGS).
   */
  prepare?: boolean;
}

/** Statement names by text: the same text gets the same name on every connection. */
const preparedNames = new Map<string, string>();
const MAX_PREPARED_NAMES = 1_000;

function preparedName(text: string): string {
  let name = preparedNames.get(text);
  if (name === undefined) {
    // A bound on statements built from parts, should one ever vary without end: names are only a cache.
    if (preparedNames.size >= MAX_PREPARED_NAMES) preparedNames.clear();
    name = `junction_${hash('sha256', text, 'base64url').slice(0, 24)}`;
    preparedNames.set(text, name);
  }
  return name;
}

/**
 * Runs one raw statement and answers with its rows and row count the same way whatever it is (a SELECT, an
 * UPDATE … RETURNING, a data-modifying CTE) and wherever it runs: TypeORM's plain `query()` returns rows for
 * some commands and `[rows, count]` for others, which callers would otherwise have to cast.
 */
export async function sql<Row = Record<string, unknown>>(db: SqlExecutor, text: string, params: unknown[] = [], options: SqlOptions = {}): Promise<SqlResult<Row>> {
  // pg's query config; a new object each time, as pg adds the values to the one it is given.
  const statement = options.prepare ? { name: preparedName(text), text } : text;
  if (db instanceof pg.Pool) {
    const result = await db.query(statement, params);
    return { rows: result.rows as Row[], count: result.rowCount ?? result.rows.length };
  }
  // A transaction's manager runs on its own query runner; the data source (or a manager outside a transaction)
  // lends a pooled connection for the one statement.
  const borrowed = db instanceof DataSource ? db.createQueryRunner() : db instanceof EntityManager && !db.queryRunner ? db.connection.createQueryRunner() : null;
  const runner = borrowed ?? (db instanceof EntityManager ? db.queryRunner! : (db as QueryRunner));
  try {
    // TypeORM hands the statement to pg's client.query as it is (and wraps a failure in its QueryFailedError
    // as for any query), so a query config with a name goes through it too; its type only says string.
    const result = await runner.query(statement as string, params, true);
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
