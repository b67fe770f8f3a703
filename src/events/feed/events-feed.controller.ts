import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../../common/auth/auth-context.js';
import { BearerAuth } from '../../common/auth/auth.decorators.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { UuidParam } from '../../common/http/uuid-param.js';
import { EventFeedPageDto, EventFeedQueryDto } from './dto/event-feed.dto.js';
import { EventsFeedService } from './events-feed.service.js';

@ApiTags('events')
@BearerAuth()
@Controller('events')
export class EventsFeedController {
  constructor(private readonly feed: EventsFeedService) {}

  @Get()
  @ApiOperation({
    summary: 'Poll the event feed: domain events oldest first, each exactly as a webhook delivery carries it',
    description:
      'For consumers that cannot take pushes. Keep next_cursor and pass it as ?after= on the next poll: every event is seen exactly once, ' +
      'in a stable order, including events whose transaction commits after a later one was read (an event appears once every older ' +
      'transaction has ended). ?after=latest starts at now. When has_more is true, poll again at once.',
  })
  @ApiOkResponse({ type: EventFeedPageDto })
  @ApiErrors(400, 'INVALID_CURSOR')
  list(@Auth() auth: AuthContext, @Query() query: EventFeedQueryDto): Promise<EventFeedPageDto> {
    return this.feed.list(auth, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get one event, exactly as a webhook delivery carries it' })
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: true } })
  @ApiErrors('INVALID_PATH_PARAMETER', 'EVENT_NOT_FOUND')
  get(@Auth() auth: AuthContext, @UuidParam('id') id: string): Promise<Record<string, unknown>> {
    return this.feed.get(auth, id);
  }
}
