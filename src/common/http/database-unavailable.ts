import { Logger } from '@nestjs/common';
import { AppError } from '../errors/app-error.js';

/** Seconds a client is told to wait (Retry-After) when the database is unreachable; a restart takes a few. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

// Node's socket errors while connecting to or talking with PostgreSQL.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
// PostgreSQL's own: admin_shutdown, crash_shutdown, cannot_connect_now (starting up or shutting down), too_many_connections.
const SERVER_CODES = new Set(['57P01', '57P02', '57P03', '53300']);
// pg and pg-pool report a dropped socket or a pool that could not connect in time with a message only.
const MESSAGES = [
  /^Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /is not queryable/i,
  /Cannot use a pool after calling end/i,
  /^Connection ended/i,
];
// TypeORM's, when the connection under a transaction died (the rollback then has no connection to use).
const TYPEORM_NAMES = new Set(['QueryRunnerProviderAlreadyReleasedError', 'QueryRunnerAlreadyReleasedError']);

interface ErrorFields {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  cause?: unknown;
  driverError?: unknown;
  errors?: unknown;
}

/**
 * True when `error` says the database could not be reached or dropped the connection (refused, terminated,
 * pool timeout, shutdown codes, SQLSTATE class 08), as opposed to a bug or a bad query. Looks through
 * TypeORM's `driverError`, `cause` chains and AggregateError's `errors`.
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (depth > 5 || error === null || typeof error !== 'object') return false;
  const fields = error as ErrorFields;
  const code = typeof fields.code === 'string' ? fields.code : '';
  if (NETWORK_CODES.has(code) || SERVER_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return true;
  if (typeof fields.name === 'string' && TYPEORM_NAMES.has(fields.name)) return true;
  if (typeof fields.message === 'string' && MESSAGES.some((pattern) => pattern.test(fields.message as string))) return true;
  const nested = [fields.driverError, fields.cause, ...(Array.isArray(fields.errors) ? fields.errors : [])];
  return nested.some((inner) => inner !== error && isDatabaseUnavailable(inner, depth + 1));
}

/** The 503 a request gets when the database is unreachable: retry later, it was (most likely) not applied. */
export class DatabaseUnavailableError extends AppError {
  constructor(cause?: unknown) {
    super(
      'DATABASE_UNAVAILABLE',
      `The database is unavailable; retry in ${DATABASE_RETRY_AFTER_SECONDS} seconds (send an Idempotency-Key to retry inbound events safely)`,
      { headers: { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) } },
    );
    this.cause = cause;
  }
}

const logger = new Logger('DatabaseUnavailable');
const LOG_EVERY_MS = 5_000;
let lastLoggedAt = 0;
let answeredSinceLog = 0;

/** `exception` as the 503 when it is a database outage, else unchanged: the error filter's one hook. */
export function asDatabaseUnavailable(exception: unknown): unknown {
  if (exception instanceof DatabaseUnavailableError || !isDatabaseUnavailable(exception)) return exception;
  // An outage fails every request at once: one warning every few seconds says so without a stack per request.
  answeredSinceLog += 1;
  if (Date.now() - lastLoggedAt >= LOG_EVERY_MS) {
    logger.warn(`Answering 503 (${answeredSinceLog} request(s) since the last warning): the database is unavailable: ${String(exception)}`);
    lastLoggedAt = Date.now();
    answeredSinceLog = 0;
  }
  return new DatabaseUnavailableError(exception);
}
