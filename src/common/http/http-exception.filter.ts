import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { AppError, type ErrorDetail } from '../errors/app-error.js';
import { CODE_OF_STATUS, ERROR_CODES, type ErrorCode } from '../errors/error-codes.js';
import { asDatabaseUnavailable } from './database-unavailable.js';
import type { ErrorResponseDto } from './error-response.dto.js';

/** What the filter makes of anything thrown: the body, and the headers that go with it. */
interface ErrorAnswer {
  body: ErrorResponseDto;
  headers?: Record<string, string>;
}

/** Route config naming the variable that sets the route's body limit, for the 413's message. */
export interface BodyLimitConfig {
  bodyLimitVariable?: string;
}

function answer(code: ErrorCode, message: string, extra: { details?: ErrorDetail[]; existingId?: string; status?: number } = {}): ErrorResponseDto {
  const status = extra.status ?? ERROR_CODES[code].status;
  return {
    statusCode: status,
    error: STATUS_CODES[status] ?? 'Error',
    code,
    message,
    ...(extra.details ? { details: extra.details } : {}),
    ...(extra.existingId ? { existing_id: extra.existingId } : {}),
  };
}

/** Fastify's own errors (parsing, body limit, media type): each with the code and message a client can act on. */
function fromFastify(error: { code?: string; statusCode: number; message?: string }, request: FastifyRequest): ErrorResponseDto {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const limit = request.routeOptions.bodyLimit;
      const variable = (request.routeOptions.config as BodyLimitConfig | undefined)?.bodyLimitVariable ?? 'BODY_LIMIT_BYTES';
      return answer('PAYLOAD_TOO_LARGE', `The body is larger than this route's limit of ${limit} bytes (set by ${variable} on the server); send less`);
    }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return answer('UNSUPPORTED_MEDIA_TYPE', 'Send the body as JSON with "Content-Type: application/json"');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return answer('MALFORMED_JSON', 'The body is not valid JSON; check quotes, commas and brackets (Content-Type is application/json)');
    default: {
      const code = CODE_OF_STATUS[error.statusCode] ?? 'VALIDATION_FAILED';
      return answer(code, error.message ?? 'Bad request', { status: error.statusCode });
    }
  }
}

/** Nest's own HttpExceptions (an unknown route, …): the status's generic code, or the code the body names. */
function fromHttpException(exception: HttpException): ErrorAnswer {
  const status = exception.getStatus();
  const response = exception.getResponse();
  const body = (typeof response === 'string' ? { message: response } : response) as { message?: unknown; code?: ErrorCode; details?: ErrorDetail[] };
  const message = Array.isArray(body.message) ? body.message.join('; ') : typeof body.message === 'string' ? body.message : exception.message;
  const code = body.code ?? CODE_OF_STATUS[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'VALIDATION_FAILED');
  return { body: answer(code, message, { status, details: body.details }) };
}

/** Builds the spec's error body from anything thrown: AppErrors, HttpExceptions, Fastify errors, or bugs. */
export function toErrorAnswer(exception: unknown, request: FastifyRequest): ErrorAnswer {
  if (exception instanceof AppError) {
    return { body: answer(exception.code, exception.message, exception), headers: exception.headers };
  }
  // Nest hands Fastify's own 4xx errors (parsing, body limit) over as HttpExceptions caused by them.
  const cause = exception instanceof HttpException ? (exception.cause as { statusCode?: number; code?: string } | undefined) : undefined;
  if (exception instanceof HttpException && !cause?.code?.startsWith('FST_')) return fromHttpException(exception);
  const candidate = (cause ?? exception ?? {}) as { statusCode?: number; code?: string; message?: string };
  if (typeof candidate.statusCode === 'number' && candidate.statusCode >= 400 && candidate.statusCode < 500) {
    return { body: fromFastify(candidate as { statusCode: number }, request) };
  }
  return { body: answer('INTERNAL_ERROR', 'An unexpected error occurred; it has been logged with this request id') };
}

@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const context = host.switchToHttp();
    sendError(asDatabaseUnavailable(exception), context.getRequest<FastifyRequest>(), context.getResponse<FastifyReply>(), this.logger);
  }
}

/** Writes the error body, logging 5xx with the request id. */
export function sendError(exception: unknown, request: FastifyRequest, reply: FastifyReply, logger: Logger): void {
  const { body, headers } = toErrorAnswer(exception, request);
  const requestId = request.id;
  // A database outage is logged once every few seconds (database-unavailable.ts), not once per request.
  if (body.statusCode >= 500 && body.code !== 'DATABASE_UNAVAILABLE') {
    logger.error(
      { err: exception, requestId, method: request.method, url: request.url },
      `Unhandled error on ${request.method} ${request.url} (request ${requestId})`,
    );
    body.message = `${body.message} (request id ${requestId})`;
  }
  if (headers) void reply.headers(headers);
  void reply.status(body.statusCode).header('x-request-id', requestId).send(body);
}
