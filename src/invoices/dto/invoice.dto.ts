import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsISO8601, IsNotEmpty, IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
import { CURRENCY, POSITIVE_MONEY, toMoney } from '../../common/http/money.js';
import { PageDto, PageQueryDto } from '../../common/http/pagination.js';
import { trimmed, trimmedOrNull, unlessAbsent, upperTrimmed } from '../../common/http/transforms.js';
import type { InvoiceFields } from '../../events/event-catalog.js';
import { INVOICE_STATUSES, type Invoice, type InvoiceStatus } from '../invoice.entity.js';

// A date-time with its time zone: without one, "10:30" would mean the server's local time.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})$/i;

const STATUS_MESSAGE = `status must be one of ${INVOICE_STATUSES.join(', ')}`;

export class CreateInvoiceDto {
  @ApiProperty({ example: 'INV-2026-0042', maxLength: 64, description: 'Unique in the tenant' })
  @Transform(trimmed)
  @IsString()
  @IsNotEmpty({ message: 'number must not be empty' })
  @MaxLength(64)
  number: string;

  @ApiProperty({
    oneOf: [
      { type: 'string', example: '49.00' },
      { type: 'number', example: 49 },
    ],
    description: 'A number or numeric string > 0 with at most 2 decimals; always returned as a string such as "49.00"',
  })
  @Transform(toMoney)
  @Matches(POSITIVE_MONEY, { message: 'amount must be a number > 0 with at most 2 decimals and 12 digits before the point, such as 49 or "49.90"' })
  amount: string;

  @ApiPropertyOptional({ example: 'USD', default: 'USD', description: 'ISO 4217 code (3 letters; stored upper-case)' })
  @unlessAbsent
  @Transform(upperTrimmed)
  @Matches(CURRENCY, { message: 'currency must be a 3-letter ISO 4217 code such as USD or EUR' })
  currency?: string;

  @ApiPropertyOptional({
    enum: INVOICE_STATUSES,
    default: 'open',
    description: 'paid sets paid_at to now unless given; leaving paid clears paid_at unless given; a void invoice stays void',
  })
  @unlessAbsent
  @IsIn(INVOICE_STATUSES, { message: STATUS_MESSAGE })
  status?: InvoiceStatus;

  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true, description: 'A contact of your tenant; null for none' })
  @IsOptional()
  @IsUUID('all', { message: 'contact_id must be a UUID (the id of one of your contacts) or null' })
  contact_id?: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: 200,
    example: 'in_1PQ2rS3tU4vW5xY6',
    description: 'The id in the system the invoice came from; unique in the tenant',
  })
  @IsOptional()
  @Transform(trimmedOrNull)
  @IsString()
  @MaxLength(200)
  external_id?: string | null;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, example: '2026-01-15T10:30:00Z' })
  @IsOptional()
  @Matches(DATE_TIME, { message: 'paid_at must be an ISO-8601 date-time with a time zone, such as 2026-01-15T10:30:00Z' })
  @IsISO8601({ strict: true }, { message: 'paid_at must be a real date and time, such as 2026-01-15T10:30:00Z' })
  paid_at?: string | null;
}

/** PATCH: any subset of the fields; null only where a field may be empty (contact_id, external_id, paid_at). */
export class UpdateInvoiceDto extends PartialType(CreateInvoiceDto, { skipNullProperties: false }) {}

export class ListInvoicesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: INVOICE_STATUSES, description: 'Only invoices with this status' })
  @IsOptional()
  @IsIn(INVOICE_STATUSES, { message: STATUS_MESSAGE })
  status?: InvoiceStatus;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only invoices of this contact' })
  @IsOptional()
  @IsUUID('all', { message: 'contact_id must be a UUID' })
  contact_id?: string;

  @ApiPropertyOptional({ description: 'The invoice with this external id', example: 'in_1PQ2rS3tU4vW5xY6' })
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @MaxLength(200)
  external_id?: string;
}

export class InvoiceResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) tenant_id: string;
  @ApiProperty({ example: 'INV-2026-0042' }) number: string;
  @ApiProperty({ example: '49.00', description: 'Decimal string with 2 decimals' }) amount: string;
  @ApiProperty({ example: 'USD' }) currency: string;
  @ApiProperty({ enum: INVOICE_STATUSES, example: 'open' }) status: InvoiceStatus;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) contact_id: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'in_1PQ2rS3tU4vW5xY6' }) external_id: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) paid_at: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;

  static from(invoice: Invoice): InvoiceResponseDto {
    return {
      id: invoice.id,
      tenant_id: invoice.tenantId,
      number: invoice.number,
      amount: invoice.amount,
      currency: invoice.currency,
      status: invoice.status,
      contact_id: invoice.contactId,
      external_id: invoice.externalId,
      paid_at: invoice.paidAt ? invoice.paidAt.toISOString() : null,
      created_at: invoice.createdAt.toISOString(),
      updated_at: invoice.updatedAt.toISOString(),
    };
  }
}

export class InvoicePageDto extends PageDto<InvoiceResponseDto> {
  @ApiProperty({ type: [InvoiceResponseDto] })
  declare data: InvoiceResponseDto[];
}

/** The invoice's fields as event payloads carry them (id as invoice_id). */
export function invoiceEventFields(invoice: Invoice): InvoiceFields {
  const { id, tenant_id: _tenant, ...fields } = InvoiceResponseDto.from(invoice);
  return { invoice_id: id, ...fields };
}
