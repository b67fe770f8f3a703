import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsDefined, IsOptional } from 'class-validator';
import type { ErrorDetailDto } from '../../common/http/error-response.dto.js';
import { ContactResponseDto, CreateContactDto } from './contact.dto.js';

export const MAX_BATCH_CONTACTS = 500;

export class ContactBatchDto {
  @ApiProperty({
    type: [CreateContactDto],
    minItems: 1,
    maxItems: MAX_BATCH_CONTACTS,
    description: `Up to ${MAX_BATCH_CONTACTS} contacts, each with an email and the fields of POST /api/contacts. Matched by email, whatever its case.`,
    example: [{ email: 'john@example.com', first_name: 'John', source: 'import' }],
  })
  @IsDefined({ message: 'contacts is required' })
  @IsArray({ message: 'contacts must be an array of contact objects' })
  @ArrayMinSize(1, { message: 'contacts must hold at least one contact' })
  @ArrayMaxSize(MAX_BATCH_CONTACTS, { message: `contacts can hold at most ${MAX_BATCH_CONTACTS} contacts per request; split the import` })
  contacts: unknown[];
}

export class ContactBatchQueryDto {
  @ApiPropertyOptional({ type: Boolean, default: false, description: 'All or nothing: one failing item writes nothing and the answer is that error' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'atomic must be true or false' })
  atomic?: boolean;
}

export type ContactBatchStatus = 'created' | 'updated' | 'unchanged' | 'error';

export class ContactBatchItemResultDto {
  @ApiProperty({ example: 0, description: 'Position of the item in the request' }) index: number;
  @ApiProperty({ enum: ['created', 'updated', 'unchanged', 'error'] }) status: ContactBatchStatus;
  @ApiPropertyOptional({ format: 'uuid', description: 'The contact (absent on error)' }) id?: string;
  @ApiPropertyOptional({ type: ContactResponseDto, description: 'The contact as stored (absent on error)' }) contact?: ContactResponseDto;
  @ApiPropertyOptional({ example: 'VALIDATION_FAILED', description: 'On error: the error code, as in error bodies (VALIDATION_FAILED, CONTACT_EMAIL_TAKEN, WRITE_CONFLICT)' }) code?: string;
  @ApiPropertyOptional({ example: 'email is required' }) message?: string;
  @ApiPropertyOptional({ description: 'On error: each field at fault', example: [{ field: 'email', message: 'email is required' }] })
  details?: ErrorDetailDto[];
}

export class ContactBatchSummaryDto {
  @ApiProperty() created: number;
  @ApiProperty() updated: number;
  @ApiProperty() unchanged: number;
  @ApiProperty() error: number;
}

export class ContactBatchResponseDto {
  @ApiProperty({ type: [ContactBatchItemResultDto], description: 'One result per item, in request order' })
  results: ContactBatchItemResultDto[];

  @ApiProperty({ type: ContactBatchSummaryDto })
  summary: ContactBatchSummaryDto;
}
