/**
 * The CRM catalog's example payloads (GET /api/webhooks/event-types), as sample data a flow can be built
 * on before any real event arrives. The tests compare each with the live catalog, so they cannot drift.
 */

const envelope = (eventName: string) => ({
  event_id: '0b5f8a2e-6c1d-4e7a-9f3b-2d4c6e8a0b1c',
  event_name: eventName,
  occurred_at: '2026-01-15T10:30:00.000Z',
  tenant_id: '123e4567-e89b-12d3-a456-426614174000',
});

const contact = {
  contact_id: '550e8400-e29b-41d4-a716-446655440000',
  first_name: 'John',
  last_name: 'Doe',
  email: 'john@example.com',
  phone: '+44 20 7946 0958',
  company: 'Acme Ltd',
  source: 'website_form',
  custom_fields: { utm_campaign: 'summer2026' },
  created_at: '2026-01-15T10:30:00.000Z',
  updated_at: '2026-01-15T10:30:00.000Z',
};

const deal = {
  deal_id: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
  title: 'Acme annual plan',
  value: '12000.00',
  currency: 'USD',
  stage: 'won',
  contact_id: contact.contact_id,
  created_at: '2026-01-15T10:30:00.000Z',
  updated_at: '2026-01-15T10:30:00.000Z',
};

const invoice = {
  invoice_id: '9b2d7e4a-1f3c-4a5b-8c6d-0e1f2a3b4c5d',
  number: 'INV-2026-0042',
  amount: '49.00',
  currency: 'USD',
  status: 'paid',
  contact_id: contact.contact_id,
  external_id: 'in_1PQ2rS3tU4vW5xY6',
  paid_at: '2026-01-15T10:30:00.000Z',
  created_at: '2026-01-15T10:30:00.000Z',
  updated_at: '2026-01-15T10:30:00.000Z',
};

export const SAMPLES = {
  'contact.created': { ...envelope('contact.created'), ...contact },
  'contact.updated': {
    ...envelope('contact.updated'),
    ...contact,
    phone: '+44 20 7946 0000',
    changes: { phone: { from: '+44 20 7946 0958', to: '+44 20 7946 0000' } },
  },
  'deal.stage_changed': { ...envelope('deal.stage_changed'), ...deal, previous_stage: 'negotiation' },
  'invoice.paid': { ...envelope('invoice.paid'), ...invoice },
} as const;

export type SampledEvent = keyof typeof SAMPLES;

/** The deal stages of the CRM, in pipeline order. */
export const DEAL_STAGES = ['lead', 'qualified', 'proposal', 'negotiation', 'won', 'lost'] as const;

/** The invoice statuses of the CRM. */
export const INVOICE_STATUSES = ['open', 'paid', 'void'] as const;
