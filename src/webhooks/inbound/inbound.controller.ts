import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Auth, type AuthContext } from '../../common/auth/auth-context.js';
import { BearerAuth, Public, Roles } from '../../common/auth/auth.decorators.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { UuidParam } from '../../common/http/uuid-param.js';
import { IntegrationEventDto, IntegrationEventPageDto, ListIntegrationEventsQueryDto, ReceivedEventDto } from './dto/integration-event.dto.js';
import { InboundAuthGuard, type InboundRequest } from './api-key/inbound-auth.guard.js';
import { InboundService } from './inbound.service.js';

@ApiTags('inbound')
@Controller('webhooks')
export class InboundController {
  constructor(private readonly inbound: InboundService) {}

  @Get('events')
  @BearerAuth()
  @ApiOperation({ summary: 'Inbound events received, newest first (filters status, event_name)' })
  @ApiOkResponse({ type: IntegrationEventPageDto })
  @ApiErrors(400)
  list(@Auth() auth: AuthContext, @Query() query: ListIntegrationEventsQueryDto): Promise<IntegrationEventPageDto> {
    return this.inbound.list(auth, query);
  }

  @Get('events/:id')
  @BearerAuth()
  @ApiOperation({ summary: 'One inbound event with its status, attempts, error_message and result' })
  @ApiOkResponse({ type: IntegrationEventDto })
  @ApiErrors(400, 'INBOUND_EVENT_NOT_FOUND')
  get(@Auth() auth: AuthContext, @UuidParam('id') id: string): Promise<IntegrationEventDto> {
    return this.inbound.get(auth, id);
  }

  @Post('events/:id/retry')
  @BearerAuth()
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Process a failed or ignored inbound event again (admin); a processed one is a 409' })
  @ApiOkResponse({ type: IntegrationEventDto })
  @ApiErrors(400, 'INBOUND_EVENT_NOT_FOUND', 'INBOUND_EVENT_NOT_RETRYABLE')
  retry(@Auth() auth: AuthContext, @UuidParam('id') id: string): Promise<IntegrationEventDto> {
    return this.inbound.retry(auth, id);
  }

  @Post(':event_name')
  @Public()
  @UseGuards(InboundAuthGuard)
  // One requirement with both schemes: both headers are needed together.
  @ApiSecurity({ 'tenant-id': [], 'api-key': [] })
  @ApiOperation({
    summary: 'Send an event into the CRM (from n8n, Activepieces, …)',
    description:
      'Authenticated by X-Tenant-ID + X-API-Key. The body is any JSON object; it is stored at once (202) and ' +
      'processed in the background: lead.captured and contact.upsert upsert a contact by email, payment.received ' +
      'creates or marks paid an invoice. The payloads of these names are checked before anything is stored (400 ' +
      'with `details` naming each field). Other names are stored and ignored; their 202 carries a `warning` ' +
      '(naming the nearest handled name when it looks like a typo). An Idempotency-Key seen in the last ' +
      '24 h returns the first event (200) and stores nothing.',
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Makes retries safe: a repeat within 24 h returns the first event' })
  @ApiBody({ schema: { type: 'object', additionalProperties: true, example: { email: 'lead@example.com', source: 'website_form', utm_campaign: 'summer2025' } } })
  @ApiAcceptedResponse({ type: ReceivedEventDto, description: 'Stored; processing follows' })
  @ApiOkResponse({ type: ReceivedEventDto, description: 'A repeat of an Idempotency-Key: the first event, nothing stored' })
  @ApiErrors(400, 'INBOUND_UNAUTHORIZED', 413, 415, 'INBOUND_RATE_LIMITED')
  async receive(
    @Param('event_name') eventName: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Req() request: FastifyRequest & InboundRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ReceivedEventDto> {
    const { duplicate, event } = await this.inbound.receive(request.inboundTenantId!, eventName, body, idempotencyKey);
    void reply.status(duplicate ? 200 : 202);
    return event;
  }
}
