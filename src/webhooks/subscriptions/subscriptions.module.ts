import { Module } from '@nestjs/common';
import { EventTypesController } from './event-types.controller.js';
import { SubscriptionsController } from './subscriptions.controller.js';
import { SubscriptionsService } from './subscriptions.service.js';
import { WebhookSecrets } from './webhook-secrets.service.js';

/**
 * Webhook subscriptions (who wants which events where, with which secret and headers) and the catalog of
 * event types to subscribe to. The delivery side uses the service and the secrets.
 */
@Module({
  controllers: [EventTypesController, SubscriptionsController],
  providers: [SubscriptionsService, WebhookSecrets],
  exports: [SubscriptionsService, WebhookSecrets],
})
export class SubscriptionsModule {}
