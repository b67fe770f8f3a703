import { Module } from '@nestjs/common';
import { PgListener } from '../database/pg-listener.js';
import { DeliveriesController } from './delivery/deliveries.controller.js';
import { DeliveriesService } from './delivery/deliveries.service.js';
import { DeliveryOutcomes } from './delivery/delivery-outcomes.js';
import { DeliveryWorker } from './delivery/delivery-worker.js';
import { FanOutListener } from './delivery/fan-out.listener.js';
import { EventTypesController } from './event-types.controller.js';
import { SubscriptionsController } from './subscriptions/subscriptions.controller.js';
import { SubscriptionsService } from './subscriptions/subscriptions.service.js';
import { WebhookSecrets } from './webhook-secrets.js';

@Module({
  controllers: [EventTypesController, SubscriptionsController, DeliveriesController],
  providers: [WebhookSecrets, SubscriptionsService, FanOutListener, DeliveryOutcomes, DeliveryWorker, DeliveriesService, PgListener],
  exports: [SubscriptionsService, PgListener],
})
export class WebhooksModule {}
