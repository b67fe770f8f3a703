import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { STATUS_CODES } from 'node:http';
import { ERROR_CODES, type ErrorCode } from '../errors/error-codes.js';
import { ErrorResponseDto } from './error-response.dto.js';

/** The codes a bare status stands for in ApiErrors(…). */
const CODES_OF_STATUS: Record<number, ErrorCode[]> = {
  400: ['VALIDATION_FAILED', 'MALFORMED_JSON'],
  401: ['AUTHENTICATION_REQUIRED', 'INVALID_TOKEN'],
  403: ['FORBIDDEN_ROLE'],
  413: ['PAYLOAD_TOO_LARGE'],
  415: ['UNSUPPORTED_MEDIA_TYPE'],
  429: ['RATE_LIMITED'],
};

const EXAMPLE_MESSAGES: Partial<Record<ErrorCode, string>> = {
  VALIDATION_FAILED: 'email must be an email address such as john@example.com',
  MALFORMED_JSON: 'The body is not valid JSON; check quotes, commas and brackets (Content-Type is application/json)',
  AUTHENTICATION_REQUIRED: 'Send a session or API token as "Authorization: Bearer <token>"',
  INVALID_TOKEN: 'The bearer token is invalid, expired or revoked; log in again or create a new API token',
  FORBIDDEN_ROLE: 'This action needs the admin role; you are member',
  PAYLOAD_TOO_LARGE: "The body is larger than this route's limit of 1048576 bytes (set by BODY_LIMIT_BYTES on the server); send less",
  UNSUPPORTED_MEDIA_TYPE: 'Send the body as JSON with "Content-Type: application/json"',
};

/** An example error body of this code, as the filter writes it. */
export function exampleError(code: ErrorCode): ErrorResponseDto {
  const status = ERROR_CODES[code].status;
  const message = EXAMPLE_MESSAGES[code] ?? ERROR_CODES[code].description.replace(/`/g, '');
  const body: ErrorResponseDto = { statusCode: status, error: STATUS_CODES[status] ?? 'Error', code, message };
  if (code === 'VALIDATION_FAILED') body.details = [{ field: 'email', message }];
  if (ERROR_CODES[code].description.includes('existing_id')) body.existing_id = '3f2c6f1e-8a4b-4c7d-9e0f-1a2b3c4d5e6f';
  return body;
}

/**
 * Documents the error responses a route can return, all with the ErrorResponse body: give a status for its
 * generic codes (400, 401, …) or the specific codes (CONTACT_NOT_FOUND); each status gets one example per code.
 */
export function ApiErrors(...items: Array<number | ErrorCode>): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const item of items) {
    const codes = typeof item === 'number' ? (CODES_OF_STATUS[item] ?? []) : [item];
    const status = typeof item === 'number' ? item : ERROR_CODES[item].status;
    byStatus.set(status, [...new Set([...(byStatus.get(status) ?? []), ...codes])]);
  }
  return applyDecorators(
    ...[...byStatus].map(([status, codes]) =>
      ApiResponse({
        status,
        type: ErrorResponseDto,
        description: codes.map((code) => `\`${code}\`: ${ERROR_CODES[code].description}`).join('; ') || (STATUS_CODES[status] ?? 'Error'),
        examples: Object.fromEntries(codes.map((code) => [code, { summary: ERROR_CODES[code].description.replace(/`/g, ''), value: exampleError(code) }])),
      }),
    ),
  );
}
