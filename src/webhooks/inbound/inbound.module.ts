import { Module } from '@nestjs/common';
import { ContactsModule } from '../../contacts/contacts.module.js';
import { InvoicesModule } from '../../invoices/invoices.module.js';
import { InboundApiKeyController } from './api-key/inbound-api-key.controller.js';
import { InboundApiKeys } from './api-key/inbound-api-keys.js';
import { InboundAuthGuard } from './api-key/inbound-auth.guard.js';
import { ContactUpsertHandler } from './handlers/contact-upsert.handler.js';
import { InboundHandlers, type InboundHandler } from './handlers/inbound-handler.js';
import { LeadCapturedHandler } from './handlers/lead-captured.handler.js';
import { PaymentReceivedHandler } from './handlers/payment-received.handler.js';
import { InboundEventsGauge } from './inbound-events.gauge.js';
import { InboundProcessor } from './inbound-processor.js';
import { InboundController } from './inbound.controller.js';
import { InboundService } from './inbound.service.js';
import { IntegrationEventRepository } from './integration-event.repository.js';

/** The inbound handlers; a new one is a class in handlers/ listed here. */
const HANDLERS = [LeadCapturedHandler, ContactUpsertHandler, PaymentReceivedHandler];

/**
 * Inbound webhooks: the tenant's API key and its guard, the endpoint that stores events, the processor that
 * applies them through their handlers, and the inbound event log. Others may use only the queue's
 * repository (retention).
 */
@Module({
  imports: [ContactsModule, InvoicesModule],
  controllers: [InboundApiKeyController, InboundController],
  providers: [
    IntegrationEventRepository,
    InboundApiKeys,
    InboundAuthGuard,
    InboundService,
    InboundProcessor,
    InboundEventsGauge,
    ...HANDLERS,
    { provide: InboundHandlers, useFactory: (...handlers: InboundHandler[]) => new InboundHandlers(handlers), inject: HANDLERS },
  ],
  exports: [IntegrationEventRepository],
})
export class InboundModule {}
