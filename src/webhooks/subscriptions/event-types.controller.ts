import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BearerAuth } from '../../common/auth/auth.decorators.js';
import { EVENT_CATALOG } from '../../events/event-catalog.js';
import { SUBSCRIBABLE_EVENT_NAMES } from '../../events/event-patterns.js';
import { EventTypeListDto } from './dto/subscription.dto.js';

@ApiTags('event types')
@BearerAuth()
@Controller('webhooks/event-types')
export class EventTypesController {
  @Get()
  @ApiOperation({ summary: 'Every event the CRM sends, with a description and an example payload' })
  @ApiOkResponse({ type: EventTypeListDto })
  list(): EventTypeListDto {
    return { data: Object.values(EVENT_CATALOG), subscribable: SUBSCRIBABLE_EVENT_NAMES };
  }
}
