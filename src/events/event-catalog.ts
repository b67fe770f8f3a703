/**
 * The domain-event catalog: every event the CRM emits, its payload and an example. Payloads are flat
 * objects: the envelope (event_id, event_name, occurred_at, tenant_id) plus the record's fields.
 */

export interface EventEnvelope {
  event_id: string;
  event_name: EventName;
  occurred_at: string;
  tenant_id: string;
}

export type FieldChanges = Record<string, { from: unknown; to: unknown }>;

export interface ContactFields {
  contact_id: string;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  phone: string | null;
  company: string | null;
  source: string | null;
  custom_fields: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

export interface UserFields {
  user_id: string;
  email: string;
  name: string;
  role: string;
  created_at: string;
}

export interface DealFields {
  deal_id: string;
  title: string;
  value: string;
  currency: string;
  stage: string;
  contact_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface InvoiceFields {
  invoice_id: string;
  number: string;
  amount: string;
  currency: string;
  status: string;
  contact_id: string | null;
  external_id: string | null;
  paid_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface WebhookTestFields {
  subscription_id: string;
  message: string;
}

export interface SubscriptionDisabledFields {
  subscription_id: string;
  /** The disabled subscription's own event_name (the envelope's event_name is this event's). */
  subscription_event_name: string;
  target_url: string;
  reason: string;
  disabled_at: string;
}

/** Event name → the fields its payload carries besides the envelope. */
export interface EventDataMap {
  'contact.created': ContactFields;
  'contact.updated': ContactFields & { changes: FieldChanges };
  'contact.deleted': ContactFields;
  'user.created': UserFields;
  'deal.created': DealFields;
  'deal.updated': DealFields & { changes: FieldChanges };
  'deal.deleted': DealFields;
  'deal.stage_changed': DealFields & { previous_stage: string };
  'invoice.created': InvoiceFields;
  'invoice.paid': InvoiceFields;
  'webhook.test': WebhookTestFields;
  'webhook.subscription.disabled': SubscriptionDisabledFields;
}

export type EventName = keyof EventDataMap;
export type EventPayload<N extends EventName = EventName> = EventEnvelope & EventDataMap[N];

const TENANT = '123e4567-e89b-12d3-a456-426614174000';
const AT = '2026-01-15T10:30:00.000Z';
const envelope = (name: EventName): EventEnvelope => ({
  event_id: '0b5f8a2e-6c1d-4e7a-9f3b-2d4c6e8a0b1c',
  event_name: name,
  occurred_at: AT,
  tenant_id: TENANT,
});
const contact: ContactFields = {
  contact_id: '550e8400-e29b-41d4-a716-446655440000',
  first_name: 'John',
  last_name: 'Doe',
  email: 'john@example.com',
  phone: '+44 20 7946 0958',
  company: 'Acme Ltd',
  source: 'website_form',
  custom_fields: { utm_campaign: 'summer2026' },
  created_at: AT,
  updated_at: AT,
};
const deal: DealFields = {
  deal_id: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
  title: 'Acme annual plan',
  value: '12000.00',
  currency: 'USD',
  stage: 'won',
  contact_id: contact.contact_id,
  created_at: AT,
  updated_at: AT,
};
const invoice: InvoiceFields = {
  invoice_id: '9b2d7e4a-1f3c-4a5b-8c6d-0e1f2a3b4c5d',
  number: 'INV-2026-0042',
  amount: '49.00',
  currency: 'USD',
  status: 'paid',
  contact_id: contact.contact_id,
  external_id: 'in_1PQ2rS3tU4vW5xY6',
  paid_at: AT,
  created_at: AT,
  updated_at: AT,
};

export interface EventTypeDefinition<N extends EventName = EventName> {
  name: N;
  description: string;
  example: EventPayload<N>;
}

type Catalog = { [N in EventName]: EventTypeDefinition<N> };

export const EVENT_CATALOG: Catalog = {
  'contact.created': {
    name: 'contact.created',
    description: 'A contact was created (through the API or an inbound lead).',
    example: { ...envelope('contact.created'), ...contact },
  },
  'contact.updated': {
    name: 'contact.updated',
    description: 'A contact changed; `changes` lists each field that really changed with its old and new value.',
    example: { ...envelope('contact.updated'), ...contact, phone: '+44 20 7946 0000', changes: { phone: { from: '+44 20 7946 0958', to: '+44 20 7946 0000' } } },
  },
  'contact.deleted': {
    name: 'contact.deleted',
    description: 'A contact was deleted; the payload is the contact as it was.',
    example: { ...envelope('contact.deleted'), ...contact },
  },
  'user.created': {
    name: 'user.created',
    description: 'A user was added to the tenant (including the admin at registration).',
    example: { ...envelope('user.created'), user_id: 'c65a2a8b-87f3-4470-b1fd-194adb9d0a6a', email: 'grace@example.com', name: 'Grace Hopper', role: 'member', created_at: AT },
  },
  'deal.created': {
    name: 'deal.created',
    description: 'A deal was created.',
    example: { ...envelope('deal.created'), ...deal, stage: 'lead' },
  },
  'deal.updated': {
    name: 'deal.updated',
    description: 'A deal changed; `changes` lists each changed field. `stage` is the current stage (check `$json.stage === "won"`).',
    example: { ...envelope('deal.updated'), ...deal, changes: { stage: { from: 'negotiation', to: 'won' } } },
  },
  'deal.deleted': {
    name: 'deal.deleted',
    description: 'A deal was deleted; the payload is the deal as it was.',
    example: { ...envelope('deal.deleted'), ...deal },
  },
  'deal.stage_changed': {
    name: 'deal.stage_changed',
    description: 'A deal moved to another stage: `stage` is the new one, `previous_stage` the old one.',
    example: { ...envelope('deal.stage_changed'), ...deal, previous_stage: 'negotiation' },
  },
  'invoice.created': {
    name: 'invoice.created',
    description: 'An invoice was created (through the API or a payment.received inbound webhook).',
    example: { ...envelope('invoice.created'), ...invoice, status: 'open', paid_at: null },
  },
  'invoice.paid': {
    name: 'invoice.paid',
    description: 'An invoice was marked paid.',
    example: { ...envelope('invoice.paid'), ...invoice },
  },
  'webhook.test': {
    name: 'webhook.test',
    description: 'Sent by POST /api/webhooks/subscriptions/{id}/test to check an endpoint.',
    example: { ...envelope('webhook.test'), subscription_id: '550e8400-e29b-41d4-a716-446655440000', message: 'This is a test delivery from Junction CRM' },
  },
  'webhook.subscription.disabled': {
    name: 'webhook.subscription.disabled',
    description: "A subscription was disabled (its endpoint answered 410 Gone, or kept failing for 3 days); sent to the tenant's other matching subscriptions.",
    example: {
      ...envelope('webhook.subscription.disabled'),
      subscription_id: '550e8400-e29b-41d4-a716-446655440000',
      subscription_event_name: 'contact.created',
      target_url: 'https://n8n.example.com/webhook/contact-created',
      reason: 'Endpoint answered 410 Gone',
      disabled_at: AT,
    },
  },
};

export const EVENT_NAMES = Object.keys(EVENT_CATALOG) as EventName[];

export function isEventName(value: string): value is EventName {
  return Object.hasOwn(EVENT_CATALOG, value);
}
