import { Logger } from '@nestjs/common';
import type { Logger as TypeOrmLoggerInterface } from 'typeorm';

/** A statement as TypeORM passes it on: its text, or (a prepared statement, see sql()) pg's query config. */
type Statement = string | { text: string };

const textOf = (query: Statement): string => (typeof query === 'string' ? query : query.text);

/**
 * Routes TypeORM's messages through the app's logger (structured, LOG_LEVEL-aware) and never logs query
 * parameters, which can hold personal data. Failed queries are debug-level: the error itself reaches the
 * caller, and the HTTP layer logs what it turns into a 5xx.
 */
export class TypeOrmLogger implements TypeOrmLoggerInterface {
  private readonly logger = new Logger('Database');

  logQuery(): void {}

  logQueryError(error: string | Error, query: Statement): void {
    this.logger.debug(`Query failed: ${error instanceof Error ? error.message : error} (${textOf(query).slice(0, 200)})`);
  }

  logQuerySlow(time: number, query: Statement): void {
    this.logger.warn(`Slow query (${time} ms): ${textOf(query).slice(0, 200)}`);
  }

  logSchemaBuild(message: string): void {
    this.logger.debug(message);
  }

  logMigration(message: string): void {
    this.logger.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(String(message));
    else this.logger.debug(String(message));
  }
}
