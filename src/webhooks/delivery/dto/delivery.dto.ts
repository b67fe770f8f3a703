import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID } from 'class-validator';
import { PageDto, PageQueryDto } from '../../../common/http/pagination.js';
import { DELIVERY_STATUSES, type DeliveryStatus, type WebhookDelivery } from '../webhook-delivery.entity.js';
import type { WebhookDeliveryAttempt } from '../webhook-delivery-attempt.entity.js';

export class ListDeliveriesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID('all', { message: 'subscription_id must be a UUID' })
  subscription_id?: string;

  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES, { message: `status must be one of ${DELIVERY_STATUSES.join(', ')}` })
  status?: DeliveryStatus;

  @ApiPropertyOptional({ example: 'contact.created' })
  @IsOptional()
  @IsString()
  event_name?: string;
}

export class DeliveryResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) subscription_id: string;
  @ApiProperty({ format: 'uuid', description: 'The event id: the webhook-id / X-Webhook-Id header, stable across retries' }) event_id: string;
  @ApiProperty({ example: 'contact.created' }) event_name: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status: DeliveryStatus;
  @ApiProperty({ example: 1, description: 'Attempts made so far' }) attempt_count: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When the next attempt is due (pending only)' }) next_attempt_at: string | null;
  @ApiProperty({ type: Number, nullable: true }) last_status_code: number | null;
  @ApiProperty({ type: String, nullable: true }) last_error: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) completed_at: string | null;

  static from(delivery: WebhookDelivery): DeliveryResponseDto {
    return {
      id: delivery.id,
      subscription_id: delivery.subscriptionId,
      event_id: delivery.eventId,
      event_name: delivery.eventName,
      status: delivery.status,
      attempt_count: delivery.attempts,
      next_attempt_at: delivery.status === 'pending' ? delivery.nextAttemptAt.toISOString() : null,
      last_status_code: delivery.lastStatusCode,
      last_error: delivery.lastError,
      created_at: delivery.createdAt.toISOString(),
      completed_at: delivery.completedAt?.toISOString() ?? null,
    };
  }
}

export class AttemptResponseDto {
  @ApiProperty({ format: 'date-time' }) attempted_at: string;
  @ApiProperty({ type: Number, nullable: true, example: 200 }) status_code: number | null;
  @ApiProperty({ example: 42 }) duration_ms: number;
  @ApiProperty({ type: String, nullable: true, enum: ['E_TIMEOUT', 'E_CONNECTION', 'E_DNS', 'E_HTTP', 'E_BLOCKED_TARGET'] }) error_code: string | null;
  @ApiProperty({ type: String, nullable: true }) error_message: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The first 2 KB of the response body' }) response_excerpt: string | null;

  static from(attempt: WebhookDeliveryAttempt): AttemptResponseDto {
    return {
      attempted_at: attempt.attemptedAt.toISOString(),
      status_code: attempt.statusCode,
      duration_ms: attempt.durationMs,
      error_code: attempt.errorCode,
      error_message: attempt.errorMessage,
      response_excerpt: attempt.responseExcerpt,
    };
  }
}

export class DeliveryDetailDto extends DeliveryResponseDto {
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The event payload (the request body)' })
  payload: Record<string, unknown>;

  @ApiProperty({ example: 'https://your-n8n-instance.com/webhook/contact-created', description: "The subscription's target URL" })
  target_url: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: 'The request headers as sent: custom header values masked, the signature headers (signed anew at each attempt) described',
    example: { 'Content-Type': 'application/json', 'X-Webhook-Event': 'contact.created', 'X-Webhook-Id': '9b2f…' },
  })
  request_headers: Record<string, string>;

  @ApiProperty({ type: [AttemptResponseDto], description: 'Every attempt, oldest first' })
  attempts: AttemptResponseDto[];
}

export class DeliveryPageDto extends PageDto<DeliveryResponseDto> {
  @ApiProperty({ type: [DeliveryResponseDto] })
  declare data: DeliveryResponseDto[];
}

export class TestDeliveryResultDto {
  @ApiProperty({ format: 'uuid' }) delivery_id: string;
  @ApiProperty() succeeded: boolean;
  @ApiProperty({ type: Number, nullable: true }) status_code: number | null;
  @ApiProperty() duration_ms: number;
  @ApiProperty({ type: String, nullable: true }) error_code: string | null;
  @ApiProperty({ type: String, nullable: true }) error_message: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The first 2 KB of the response body' }) response_excerpt: string | null;
}
