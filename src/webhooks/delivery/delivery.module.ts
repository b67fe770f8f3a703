import { Module } from '@nestjs/common';
import { SubscriptionsModule } from '../subscriptions/subscriptions.module.js';
import { DeliveriesController } from './deliveries.controller.js';
import { DeliveriesService } from './deliveries.service.js';
import { DeliveryOutcomes } from './delivery-outcomes.js';
import { DeliveryQueueGauges } from './delivery-queue.gauges.js';
import { DeliverySender } from './delivery-sender.js';
import { DeliveryWorker } from './delivery-worker.js';
import { SubscriptionDeliveriesController } from './subscription-deliveries.controller.js';
import { FanOutStep } from './fan-out.step.js';
import { WebhookDeliveryRepository } from './webhook-delivery.repository.js';

/**
 * Outbound webhooks: the fan-out of domain events into deliveries, the worker that signs and sends them, the
 * outcomes and retries, and the delivery log. Others may use only the delivery queue's repository (retention).
 */
@Module({
  imports: [SubscriptionsModule],
  controllers: [SubscriptionDeliveriesController, DeliveriesController],
  providers: [WebhookDeliveryRepository, FanOutStep, DeliverySender, DeliveryOutcomes, DeliveryWorker, DeliveriesService, DeliveryQueueGauges],
  exports: [WebhookDeliveryRepository],
})
export class DeliveryModule {}
