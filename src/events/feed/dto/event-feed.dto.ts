import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageLimit } from '../../../common/http/pagination.js';
import { SUBSCRIBABLE_EVENT_NAMES } from '../../event-patterns.js';

export class EventFeedQueryDto {
  @ApiPropertyOptional({
    description:
      'Where to resume: the next_cursor of the previous page, or `latest` to start at now (a new poller). Omitted: from the oldest kept event.',
    example: 'latest',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  after?: string;

  @ApiPropertyOptional({ example: 'contact.*', description: `A catalog event name or a pattern, as for subscriptions. One of: ${SUBSCRIBABLE_EVENT_NAMES.join(', ')}` })
  @IsOptional()
  @IsString()
  @IsIn(SUBSCRIBABLE_EVENT_NAMES, { message: `event_name must be one of: ${SUBSCRIBABLE_EVENT_NAMES.join(', ')}` })
  event_name?: string;

  @PageLimit()
  limit?: number;
}

export class EventFeedPageDto {
  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description: 'Events oldest first, each exactly the JSON body a webhook delivery of it carries (see GET /api/webhooks/event-types)',
    example: [{ event_id: '0b5f8a2e-6c1d-4e7a-9f3b-2d4c6e8a0b1c', event_name: 'contact.created', occurred_at: '2026-01-15T10:30:00.000Z', tenant_id: '123e4567-e89b-12d3-a456-426614174000', contact_id: '550e8400-e29b-41d4-a716-446655440000', email: 'john@example.com' }],
  })
  data: Record<string, unknown>[];

  @ApiProperty({ description: 'Pass as ?after= on the next poll. Never null: keep it even when data is empty.', example: 'djE6ODQxOjEy' })
  next_cursor: string;

  @ApiProperty({ description: 'True when more events are ready now: poll again at once instead of waiting' })
  has_more: boolean;
}
