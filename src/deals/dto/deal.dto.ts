import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsNotEmpty, IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
import { CURRENCY, MONEY, toMoney } from '../../common/http/money.js';
import { PageDto, PageQueryDto } from '../../common/http/pagination.js';
import { trimmed, unlessAbsent, upperTrimmed } from '../../common/http/transforms.js';
import type { DealFields } from '../../events/event-catalog.js';
import { DEAL_STAGES, type Deal, type DealStage } from '../deal.entity.js';

const STAGE_MESSAGE = `stage must be one of ${DEAL_STAGES.join(', ')}`;

export class CreateDealDto {
  @ApiProperty({ example: 'Acme annual plan', maxLength: 200 })
  @Transform(trimmed)
  @IsString()
  @IsNotEmpty({ message: 'title must not be empty' })
  @MaxLength(200)
  title: string;

  @ApiPropertyOptional({
    oneOf: [
      { type: 'string', example: '12000.00' },
      { type: 'number', example: 12000 },
    ],
    default: '0.00',
    description: 'A number or numeric string ≥ 0 with at most 2 decimals; always returned as a string such as "12000.00"',
  })
  @unlessAbsent
  @Transform(toMoney)
  @Matches(MONEY, { message: 'value must be a number ≥ 0 with at most 2 decimals and 12 digits before the point, such as 1200 or "1200.50"' })
  value?: string;

  @ApiPropertyOptional({ example: 'USD', default: 'USD', description: 'ISO 4217 code (3 letters; stored upper-case)' })
  @unlessAbsent
  @Transform(upperTrimmed)
  @Matches(CURRENCY, { message: 'currency must be a 3-letter ISO 4217 code such as USD or EUR' })
  currency?: string;

  @ApiPropertyOptional({ enum: DEAL_STAGES, default: 'lead' })
  @unlessAbsent
  @IsIn(DEAL_STAGES, { message: STAGE_MESSAGE })
  stage?: DealStage;

  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true, description: 'A contact of your tenant; null for none' })
  @IsOptional()
  @IsUUID('all', { message: 'contact_id must be a UUID (the id of one of your contacts) or null' })
  contact_id?: string | null;
}

/** PATCH: any subset of the fields; null only where a field may be empty (contact_id). */
export class UpdateDealDto extends PartialType(CreateDealDto, { skipNullProperties: false }) {}

export class ListDealsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: DEAL_STAGES, description: 'Only deals in this stage' })
  @IsOptional()
  @IsIn(DEAL_STAGES, { message: STAGE_MESSAGE })
  stage?: DealStage;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only deals of this contact' })
  @IsOptional()
  @IsUUID('all', { message: 'contact_id must be a UUID' })
  contact_id?: string;
}

export class DealResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) tenant_id: string;
  @ApiProperty({ example: 'Acme annual plan' }) title: string;
  @ApiProperty({ example: '12000.00', description: 'Decimal string with 2 decimals' }) value: string;
  @ApiProperty({ example: 'USD' }) currency: string;
  @ApiProperty({ enum: DEAL_STAGES, example: 'lead' }) stage: DealStage;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) contact_id: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;

  static from(deal: Deal): DealResponseDto {
    return {
      id: deal.id,
      tenant_id: deal.tenantId,
      title: deal.title,
      value: deal.value,
      currency: deal.currency,
      stage: deal.stage,
      contact_id: deal.contactId,
      created_at: deal.createdAt.toISOString(),
      updated_at: deal.updatedAt.toISOString(),
    };
  }
}

export class DealPageDto extends PageDto<DealResponseDto> {
  @ApiProperty({ type: [DealResponseDto] })
  declare data: DealResponseDto[];
}

/** The deal's fields as event payloads carry them (id as deal_id, stage at top level). */
export function dealEventFields(deal: Deal): DealFields {
  const { id, tenant_id: _tenant, ...fields } = DealResponseDto.from(deal);
  return { deal_id: id, ...fields };
}
