import { ERROR_CODES, type ErrorCode } from './error-codes.js';

export interface ErrorDetail {
  field: string;
  message: string;
}

export interface AppErrorOptions {
  /** One entry per field at fault. */
  details?: ErrorDetail[];
  /** The record already holding a unique value (409s). */
  existingId?: string;
  /** Response headers the error needs (Retry-After). */
  headers?: Record<string, string>;
}

/**
 * The one error type services throw: a stable code, a message a person can act on, and optional details.
 * The exception filter maps it to the HTTP answer; nothing else needs to know about HTTP statuses.
 */
export class AppError extends Error {
  readonly details?: ErrorDetail[];
  readonly existingId?: string;
  readonly headers?: Record<string, string>;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.details = options.details;
    this.existingId = options.existingId;
    this.headers = options.headers;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}

/** A 400 about one field: the message names the field and what it must be. */
export function invalidField(field: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', message, { details: [{ field, message }] });
}

/** A 409 pointing at the record already holding a unique value (`existing_id`). */
export function duplicateOf(code: ErrorCode, message: string, field: string, existingId: string): AppError {
  return new AppError(code, message, { details: [{ field, message }], existingId });
}
