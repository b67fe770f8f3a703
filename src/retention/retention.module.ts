import { Module } from '@nestjs/common';
import { RetentionService } from './retention.service.js';

/** The scheduled pruning of webhook deliveries, inbound events and domain events past their retention period. */
@Module({
  providers: [RetentionService],
  exports: [RetentionService],
})
export class RetentionModule {}
