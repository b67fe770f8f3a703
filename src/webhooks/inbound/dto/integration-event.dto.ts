import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString } from 'class-validator';
import { PageDto, PageQueryDto } from '../../../common/http/pagination.js';
import { INTEGRATION_EVENT_STATUSES, type IntegrationEvent, type IntegrationEventStatus } from '../integration-event.entity.js';

/** The seed's 202 body. */
export class ReceivedEventDto {
  @ApiProperty({ format: 'uuid', example: '660f9511-f39c-52e5-b827-557766551111' }) id: string;
  @ApiProperty({ format: 'uuid' }) tenant_id: string;
  @ApiProperty({ example: 'lead.captured' }) event_name: string;
  @ApiProperty({ type: 'object', additionalProperties: true, example: { email: 'lead@example.com', source: 'website_form', utm_campaign: 'summer2025' } })
  payload: Record<string, unknown>;
  @ApiProperty({ enum: INTEGRATION_EVENT_STATUSES, example: 'received' }) status: IntegrationEventStatus;
  @ApiProperty({ format: 'date-time' }) received_at: string;
  @ApiPropertyOptional({
    example: 'no handler for "lead.capture"; did you mean "lead.captured"? It is stored and will be ignored',
    description: 'Only when the event name has no handler: the event is stored and will be ignored',
  })
  warning?: string;
}

export class IntegrationEventDto extends ReceivedEventDto {
  @ApiProperty({ example: 1 }) attempts: number;
  @ApiProperty({ type: String, nullable: true, description: 'Why processing failed (names the field at fault for a bad payload)' }) error_message: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, example: { contact_id: '550e8400-e29b-41d4-a716-446655440000', action: 'created' } })
  result: Record<string, unknown> | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) processed_at: string | null;
  @ApiProperty({ type: String, nullable: true }) idempotency_key: string | null;

  static from(event: IntegrationEvent): IntegrationEventDto {
    return {
      id: event.id,
      tenant_id: event.tenantId,
      event_name: event.eventName,
      payload: event.payload,
      status: event.status,
      received_at: event.receivedAt.toISOString(),
      attempts: event.attempts,
      error_message: event.errorMessage,
      result: event.result,
      processed_at: event.processedAt?.toISOString() ?? null,
      idempotency_key: event.idempotencyKey,
    };
  }
}

export class IntegrationEventPageDto extends PageDto<IntegrationEventDto> {
  @ApiProperty({ type: [IntegrationEventDto] })
  declare data: IntegrationEventDto[];
}

export class ListIntegrationEventsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: INTEGRATION_EVENT_STATUSES })
  @IsOptional()
  @IsIn(INTEGRATION_EVENT_STATUSES, { message: `status must be one of ${INTEGRATION_EVENT_STATUSES.join(', ')}` })
  status?: IntegrationEventStatus;

  @ApiPropertyOptional({ example: 'lead.captured' })
  @IsOptional()
  @IsString()
  event_name?: string;
}
