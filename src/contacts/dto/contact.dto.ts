import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsObject, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';
import type { ContactFields } from '../../events/event-catalog.js';
import { PageDto, PageQueryDto } from '../../common/http/pagination.js';
import { lowerTrimmed, trimmedOrNull } from '../../common/http/transforms.js';
import type { Contact } from '../contact.entity.js';


export class CreateContactDto {
  @ApiPropertyOptional({ example: 'John', maxLength: 200 })
  @IsOptional()
  @Transform(trimmedOrNull)
  @IsString()
  @MaxLength(200)
  first_name?: string | null;

  @ApiPropertyOptional({ example: 'Doe', maxLength: 200 })
  @IsOptional()
  @Transform(trimmedOrNull)
  @IsString()
  @MaxLength(200)
  last_name?: string | null;

  @ApiPropertyOptional({ example: 'john@example.com', description: 'Unique in the tenant, whatever its case' })
  @IsOptional()
  @Transform(trimmedOrNull)
  @IsEmail({}, { message: 'email must be an email address such as john@example.com' })
  @MaxLength(254)
  email?: string | null;

  @ApiPropertyOptional({ example: '+44 20 7946 0958', maxLength: 50 })
  @IsOptional()
  @Transform(trimmedOrNull)
  @IsString()
  @MaxLength(50)
  phone?: string | null;

  @ApiPropertyOptional({ example: 'Acme Ltd', maxLength: 200 })
  @IsOptional()
  @Transform(trimmedOrNull)
  @IsString()
  @MaxLength(200)
  company?: string | null;

  @ApiPropertyOptional({ example: 'website_form', maxLength: 100 })
  @IsOptional()
  @Transform(trimmedOrNull)
  @IsString()
  @MaxLength(100)
  source?: string | null;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: { utm_campaign: 'summer2026' }, description: 'Any JSON object' })
  // null is refused like any other non-object (the field always holds an object; send {} to clear it).
  @ValidateIf((_dto, value) => value !== undefined)
  @IsObject({ message: 'custom_fields must be a JSON object (send {} to clear it)' })
  custom_fields?: Record<string, unknown>;
}

// skipNullProperties: false keeps each field's own null handling (custom_fields: null is a 400, first_name: null clears it).
export class UpdateContactDto extends PartialType(CreateContactDto, { skipNullProperties: false }) {}

export class ListContactsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Search first/last name, email and company (case-insensitive substring)', example: 'acme' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @MaxLength(200)
  q?: string;

  @ApiPropertyOptional({ description: 'Exact email (case-insensitive)', example: 'john@example.com' })
  @IsOptional()
  @Transform(lowerTrimmed)
  @IsString()
  @MaxLength(254)
  email?: string;
}

export class ContactResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) tenant_id: string;
  @ApiProperty({ type: String, nullable: true, example: 'John' }) first_name: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'Doe' }) last_name: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'john@example.com' }) email: string | null;
  @ApiProperty({ type: String, nullable: true }) phone: string | null;
  @ApiProperty({ type: String, nullable: true }) company: string | null;
  @ApiProperty({ type: String, nullable: true }) source: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) custom_fields: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;

  static from(contact: Contact): ContactResponseDto {
    return {
      id: contact.id,
      tenant_id: contact.tenantId,
      first_name: contact.firstName,
      last_name: contact.lastName,
      email: contact.email,
      phone: contact.phone,
      company: contact.company,
      source: contact.source,
      custom_fields: contact.customFields,
      created_at: contact.createdAt.toISOString(),
      updated_at: contact.updatedAt.toISOString(),
    };
  }
}

export class ContactPageDto extends PageDto<ContactResponseDto> {
  @ApiProperty({ type: [ContactResponseDto] })
  declare data: ContactResponseDto[];
}

/** The contact's fields as event payloads carry them (id as contact_id). */
export function contactEventFields(contact: Contact): ContactFields {
  const { id, tenant_id: _tenant, ...fields } = ContactResponseDto.from(contact);
  return { contact_id: id, ...fields };
}
