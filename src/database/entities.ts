import { AccessToken } from '../auth/access-token.entity.js';
import { LoginAttempt } from '../auth/login-attempt.entity.js';
import { Contact } from '../contacts/contact.entity.js';
import { Deal } from '../deals/deal.entity.js';
import { DomainEventRecord } from '../events/domain-event.entity.js';
import { Invoice } from '../invoices/invoice.entity.js';
import { Tenant } from '../tenants/tenant.entity.js';
import { User } from '../users/user.entity.js';
import { IntegrationEvent } from '../webhooks/inbound/integration-event.entity.js';
import { WebhookDeliveryAttempt } from '../webhooks/delivery/webhook-delivery-attempt.entity.js';
import { WebhookDelivery } from '../webhooks/delivery/webhook-delivery.entity.js';
import { WebhookSubscription } from '../webhooks/subscriptions/webhook-subscription.entity.js';

/** Every entity; listed explicitly because ESM builds cannot be globbed reliably. */
export const entities = [Tenant, User, AccessToken, LoginAttempt, DomainEventRecord, Contact, Deal, Invoice, WebhookSubscription, WebhookDelivery, WebhookDeliveryAttempt, IntegrationEvent];
