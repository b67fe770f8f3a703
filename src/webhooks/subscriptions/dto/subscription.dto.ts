import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsDateString, IsIn, IsObject, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { PageDto, PageQueryDto } from '../../../common/http/pagination.js';
import { trimmed } from '../../../common/http/transforms.js';
import { EVENT_NAMES } from '../../../events/event-catalog.js';
import { SUBSCRIBABLE_EVENT_NAMES } from '../../../events/event-patterns.js';
import { FILTER_MAX_BYTES, FILTER_MAX_DEPTH, IsSubscriptionFilter } from '../subscription-filter.js';

const booleanQuery = ({ value }: { value: unknown }): unknown => (value === 'true' ? true : value === 'false' ? false : value);

export class CreateSubscriptionDto {
  @ApiProperty({ enum: SUBSCRIBABLE_EVENT_NAMES, example: 'contact.created', description: 'A catalog event name, or a pattern: contact.* (every contact event) or * (every event)' })
  @Transform(trimmed)
  @IsString()
  @IsIn(SUBSCRIBABLE_EVENT_NAMES, { message: `event_name must be one of: ${SUBSCRIBABLE_EVENT_NAMES.join(', ')}` })
  event_name: string;

  @ApiProperty({ example: 'https://your-n8n-instance.com/webhook/contact-created', description: 'An http(s) URL that answers POST' })
  @Transform(trimmed)
  @IsString()
  @MinLength(1, { message: 'target_url must not be empty' })
  @MaxLength(2048)
  target_url: string;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean({ message: 'enabled must be true or false' })
  enabled?: boolean;

  @ApiPropertyOptional({ example: 'n8n: welcome email', maxLength: 500 })
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @MaxLength(500)
  description?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { 'X-N8N-Auth': 'a-shared-secret' },
    description: "Static headers sent with every delivery (e.g. for n8n's Header Auth). Stored encrypted; shown masked.",
  })
  @IsOptional()
  @IsObject({ message: 'headers must be an object of header names to string values' })
  headers?: Record<string, string>;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    example: { stage: 'won' },
    description:
      'Only events whose delivery body contains this JSON (PostgreSQL jsonb containment, @>) are delivered: {"stage": "won"}, ' +
      `{"changes": {"stage": {}}} (stage changed), {"source": "website_form"}. At most ${FILTER_MAX_BYTES} bytes and ${FILTER_MAX_DEPTH} levels deep; ` +
      'null or {} removes it.',
  })
  @IsOptional()
  @IsSubscriptionFilter()
  filter?: Record<string, unknown> | null;
}

export class UpdateSubscriptionDto extends PartialType(CreateSubscriptionDto) {}

export class ListSubscriptionsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'contact.created' })
  @IsOptional()
  @IsString()
  event_name?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  target_url?: string;

  @ApiPropertyOptional({ type: Boolean })
  @IsOptional()
  @Transform(booleanQuery)
  @IsBoolean({ message: 'enabled must be true or false' })
  enabled?: boolean;
}

export class SubscriptionResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) tenant_id: string;
  @ApiProperty({ example: 'contact.created' }) event_name: string;
  @ApiProperty({ example: 'https://your-n8n-instance.com/webhook/contact-created' }) target_url: string;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ type: String, nullable: true }) description: string | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'Header names with masked values', example: { 'X-N8N-Auth': '••••••' } })
  headers: Record<string, string>;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: 'Containment filter on the delivery body (null: every event)', example: { stage: 'won' } })
  filter: Record<string, unknown> | null;
  @ApiProperty({ type: String, nullable: true, description: 'Why the subscription was disabled automatically' }) disabled_reason: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) disabled_at: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
}

export class SubscriptionWithSecretDto extends SubscriptionResponseDto {
  @ApiProperty({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', description: 'The signing secret; returned on create, rotation and GET :id/secret only' })
  secret: string;
}

export class SubscriptionPageDto extends PageDto<SubscriptionResponseDto> {
  @ApiProperty({ type: [SubscriptionResponseDto] })
  declare data: SubscriptionResponseDto[];
}

export class SecretResponseDto {
  @ApiProperty({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })
  secret: string;

  @ApiProperty({ type: String, nullable: true, description: 'The previous secret (during a rotation)' })
  previous_secret: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Until when the previous secret still signs' })
  previous_secret_expires_at: string | null;
}

export class TestSubscriptionDto {
  @ApiPropertyOptional({
    enum: EVENT_NAMES,
    default: 'webhook.test',
    description: "Send this event's catalog example (with test: true in the envelope) instead of webhook.test, to map its fields in a workflow",
  })
  @IsOptional()
  @IsIn(EVENT_NAMES, { message: `event_name must be one of: ${EVENT_NAMES.join(', ')}` })
  event_name?: (typeof EVENT_NAMES)[number];
}

export class RecoverDto {
  @ApiProperty({ example: '2026-01-15T00:00:00Z', description: 'Re-queue every failed delivery created since this time' })
  @IsDateString({ strict: true }, { message: 'since must be an ISO-8601 date-time such as 2026-01-15T00:00:00Z' })
  since: string;
}

export class RecoverResponseDto {
  @ApiProperty({ example: 12 })
  requeued: number;
}

export class EventTypeDto {
  @ApiProperty({ example: 'contact.created' }) name: string;
  @ApiProperty() description: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) example: object;
}

export class EventTypeListDto {
  @ApiProperty({ type: [EventTypeDto] })
  data: EventTypeDto[];

  @ApiProperty({ type: [String], example: ['contact.*', '*'], description: 'Every value event_name accepts' })
  subscribable: string[];
}
