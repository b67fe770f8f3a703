import { Module } from '@nestjs/common';
import { DeliveryModule } from '../webhooks/delivery/delivery.module.js';
import { InboundModule } from '../webhooks/inbound/inbound.module.js';
import { RetentionService } from './retention.service.js';

/** The scheduled pruning of webhook deliveries, inbound events and domain events past their retention period. */
@Module({
  imports: [DeliveryModule, InboundModule],
  providers: [RetentionService],
  exports: [RetentionService],
})
export class RetentionModule {}
