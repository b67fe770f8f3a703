import { Module } from '@nestjs/common';
import { ContactsModule } from '../contacts/contacts.module.js';
import { PgListener } from '../database/pg-listener.js';
import { InvoicesModule } from '../invoices/invoices.module.js';
import { TenantsModule } from '../tenants/tenants.module.js';
import { DeliveriesController } from './delivery/deliveries.controller.js';
import { DeliveriesService } from './delivery/deliveries.service.js';
import { DeliveryOutcomes } from './delivery/delivery-outcomes.js';
import { DeliveryWorker } from './delivery/delivery-worker.js';
import { FanOutListener } from './delivery/fan-out.listener.js';
import { EventTypesController } from './event-types.controller.js';
import { ContactUpsertHandler } from './inbound/handlers/contact-upsert.handler.js';
import { INBOUND_HANDLERS, type InboundHandler } from './inbound/handlers/inbound-handler.js';
import { LeadCapturedHandler } from './inbound/handlers/lead-captured.handler.js';
import { PaymentReceivedHandler } from './inbound/handlers/payment-received.handler.js';
import { InboundAuthGuard } from './inbound/inbound-auth.guard.js';
import { InboundProcessor } from './inbound/inbound-processor.js';
import { InboundController } from './inbound/inbound.controller.js';
import { InboundService } from './inbound/inbound.service.js';
import { SubscriptionsController } from './subscriptions/subscriptions.controller.js';
import { SubscriptionsService } from './subscriptions/subscriptions.service.js';
import { WebhookSecrets } from './webhook-secrets.js';

const HANDLERS = [LeadCapturedHandler, ContactUpsertHandler, PaymentReceivedHandler];

@Module({
  imports: [ContactsModule, InvoicesModule, TenantsModule],
  // Static routes (event-types, subscriptions, deliveries, events) before POST /webhooks/:event_name.
  controllers: [EventTypesController, SubscriptionsController, DeliveriesController, InboundController],
  providers: [
    PgListener,
    WebhookSecrets,
    SubscriptionsService,
    FanOutListener,
    DeliveryOutcomes,
    DeliveryWorker,
    DeliveriesService,
    InboundService,
    InboundAuthGuard,
    InboundProcessor,
    ...HANDLERS,
    { provide: INBOUND_HANDLERS, useFactory: (...handlers: InboundHandler[]) => handlers, inject: HANDLERS },
  ],
  exports: [SubscriptionsService],
})
export class WebhooksModule {}
