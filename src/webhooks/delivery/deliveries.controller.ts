import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../../common/auth/auth-context.js';
import { BearerAuth, Roles } from '../../common/auth/auth.decorators.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { UuidParam } from '../../common/http/uuid-param.js';
import { DeliveriesService } from './deliveries.service.js';
import { DeliveryDetailDto, DeliveryPageDto, DeliveryResponseDto, ListDeliveriesQueryDto } from './dto/delivery.dto.js';

@ApiTags('deliveries')
@BearerAuth()
@Controller('webhooks/deliveries')
export class DeliveriesController {
  constructor(private readonly deliveries: DeliveriesService) {}

  @Get()
  @ApiOperation({ summary: 'The delivery log, newest first (filters subscription_id, status, event_name)' })
  @ApiOkResponse({ type: DeliveryPageDto })
  @ApiErrors(400)
  list(@Auth() auth: AuthContext, @Query() query: ListDeliveriesQueryDto): Promise<DeliveryPageDto> {
    return this.deliveries.list(auth, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One delivery with its payload and every attempt' })
  @ApiOkResponse({ type: DeliveryDetailDto })
  @ApiErrors(400, 'DELIVERY_NOT_FOUND')
  get(@Auth() auth: AuthContext, @UuidParam('id') id: string): Promise<DeliveryDetailDto> {
    return this.deliveries.get(auth, id);
  }

  @Post(':id/redeliver')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Queue the delivery again, now (admin); the receiver sees the same webhook-id' })
  @ApiOkResponse({ type: DeliveryResponseDto })
  @ApiErrors(400, 'DELIVERY_NOT_FOUND')
  redeliver(@Auth() auth: AuthContext, @UuidParam('id') id: string): Promise<DeliveryResponseDto> {
    return this.deliveries.redeliver(auth, id);
  }
}
