import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from './error-response.dto.js';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input; `details` names each field at fault',
  401: 'Missing, invalid, expired or revoked credentials',
  403: 'The caller lacks the role this route needs',
  404: 'No such record in the caller\'s tenant',
  409: 'Conflicts with an existing record',
  413: 'Body larger than allowed',
  415: 'Content-Type is not application/json',
  429: 'Too many requests; retry after the Retry-After header',
};

/** Documents the error responses a route can return, all with the ErrorResponse body. */
export function ApiErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) => ApiResponse({ status, description: DESCRIPTIONS[status] ?? 'Error', type: ErrorResponseDto })),
  );
}
