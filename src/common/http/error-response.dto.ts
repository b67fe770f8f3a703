import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ERROR_CODE_NAMES, type ErrorCode } from '../errors/error-codes.js';

export class ErrorDetailDto {
  @ApiProperty({ example: 'email', description: 'The request field at fault (dotted path for nested fields)' })
  field: string;

  @ApiProperty({ example: 'email must be an email address such as john@example.com' })
  message: string;
}

/** The one error body every route returns. */
export class ErrorResponseDto {
  @ApiProperty({ description: 'The HTTP status, repeated' })
  statusCode: number;

  @ApiProperty({ description: "The HTTP status's name" })
  error: string;

  @ApiProperty({ enum: ERROR_CODE_NAMES, enumName: 'ErrorCode', description: 'Stable, machine-readable: branch on this, not on the message (see docs/errors.md)' })
  code: ErrorCode;

  @ApiProperty({ description: 'What is wrong and what to do, for a person' })
  message: string;

  @ApiPropertyOptional({ type: [ErrorDetailDto], description: 'One entry per field at fault (400s)' })
  details?: ErrorDetailDto[];

  @ApiPropertyOptional({ format: 'uuid', description: 'The record already holding a unique value (409s)' })
  existing_id?: string;
}
