import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../../common/auth/auth-context.js';
import { BearerAuth, Roles } from '../../common/auth/auth.decorators.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { UuidParam } from '../../common/http/uuid-param.js';
import { RecoverDto, RecoverResponseDto, TestSubscriptionDto } from '../subscriptions/dto/subscription.dto.js';
import { DeliveriesService } from './deliveries.service.js';
import { TestDeliveryResultDto } from './dto/delivery.dto.js';

/** The delivery operations on one subscription: a test send now, and re-queueing its failed deliveries. */
@ApiTags('subscriptions')
@BearerAuth()
@Controller('webhooks/subscriptions')
export class SubscriptionDeliveriesController {
  constructor(private readonly deliveries: DeliveriesService) {}

  @Post(':id/test')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({
    // The id it had before the route moved here, so clients generated from the document keep their method names.
    operationId: 'SubscriptionsController_test',
    summary: 'Send a test delivery now and return the attempt (status code, duration, response excerpt)',
    description:
      'Sends webhook.test, or with {"event_name": "deal.stage_changed"} (any catalog name) that event\'s catalog example, ' +
      'marked `"test": true` in the envelope and signed like any delivery, so a workflow can map its fields before real data exists. ' +
      'The body is optional.',
  })
  @ApiOkResponse({ type: TestDeliveryResultDto })
  @ApiErrors(400, 'SUBSCRIPTION_NOT_FOUND')
  test(@Auth() auth: AuthContext, @UuidParam('id') id: string, @Body() dto: TestSubscriptionDto): Promise<TestDeliveryResultDto> {
    return this.deliveries.sendTest(auth, id, dto.event_name ?? 'webhook.test');
  }

  @Post(':id/recover')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({
    // The id it had before the route moved here, so clients generated from the document keep their method names.
    operationId: 'SubscriptionsController_recover',
    summary: 'Re-queue every failed delivery of this subscription created since a time (admin)',
  })
  @ApiOkResponse({ type: RecoverResponseDto })
  @ApiErrors(400, 'SUBSCRIPTION_NOT_FOUND')
  async recover(@Auth() auth: AuthContext, @UuidParam('id') id: string, @Body() dto: RecoverDto): Promise<RecoverResponseDto> {
    return { requeued: await this.deliveries.recover(auth, id, new Date(dto.since)) };
  }
}
