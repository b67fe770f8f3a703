import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { ErrorDetailDto, ErrorResponseDto } from './error-response.dto.js';


interface ErrorLike {
  statusCode?: number;
  status?: number;
  code?: string;
  message?: string;
}

/** Builds the spec's error body from anything thrown: HttpExceptions, Fastify errors, or bugs. */
export function toErrorResponse(exception: unknown): ErrorResponseDto {
  const body = describe(exception);
  if (body.statusCode === 415) body.message = UNSUPPORTED_MEDIA_TYPE;
  return body;
}

const UNSUPPORTED_MEDIA_TYPE = 'Send the body as JSON with "Content-Type: application/json"';

function describe(exception: unknown): ErrorResponseDto {
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const body = exception.getResponse();
    const base = { statusCode: status, error: STATUS_CODES[status] ?? 'Error' };
    if (typeof body === 'string') return { ...base, message: body };
    // `headers` is an instruction to the filter, not part of the body; other extra keys (existing_id) pass through.
    const { message, error, details, statusCode: _status, headers: _headers, ...extra } = body as {
      message?: unknown;
      error?: unknown;
      details?: ErrorDetailDto[];
      statusCode?: number;
      headers?: unknown;
    };
    const text = Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : exception.message;
    return {
      ...base,
      error: typeof error === 'string' ? error : base.error,
      message: text,
      ...(details ? { details } : {}),
      ...extra,
    };
  }
  const candidate = (exception ?? {}) as ErrorLike;
  const status = candidate.statusCode ?? candidate.status;
  // Fastify's own errors (body too large, bad JSON, unsupported media type) carry a 4xx statusCode.
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message: candidate.message ?? 'Bad request' };
  }
  return {
    statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
    error: 'Internal Server Error',
    message: 'An unexpected error occurred; it has been logged with this request id',
  };
}

@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const context = host.switchToHttp();
    const request = context.getRequest<FastifyRequest>();
    const reply = context.getResponse<FastifyReply>();
    sendError(exception, request, reply, this.logger);
  }
}

/** Writes the error body, logging 5xx with the request id. */
export function sendError(exception: unknown, request: FastifyRequest, reply: FastifyReply, logger: Logger): void {
  const body = toErrorResponse(exception);
  const requestId = request.id;
  if (body.statusCode >= 500) {
    logger.error(
      { err: exception, requestId, method: request.method, url: request.url },
      `Unhandled error on ${request.method} ${request.url} (request ${requestId})`,
    );
    body.message = `${body.message} (request id ${requestId})`;
  }
  const headers = exception instanceof HttpException ? (exception.getResponse() as { headers?: Record<string, string> }).headers : undefined;
  if (headers) void reply.headers(headers);
  void reply.status(body.statusCode).header('x-request-id', requestId).send(body);
}
