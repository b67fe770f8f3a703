import { Property, createAction } from '@activepieces/pieces-framework';
import { junctionCrmAuth } from '../auth';
import { crmConnection, crmRequest } from '../client';

export const sendInboundEvent = createAction({
  auth: junctionCrmAuth,
  name: 'send_inbound_event',
  displayName: 'Send Inbound Event',
  description:
    'Sends an event into the CRM’s inbound webhook (X-Tenant-ID + X-API-Key from the connection). lead.captured creates or updates a contact by email; ' +
    'payment.received creates or marks paid an invoice. The CRM answers 202 at once and processes the event in the background.',
  props: {
    event_name: Property.StaticDropdown<string, true>({
      displayName: 'Event',
      required: true,
      defaultValue: 'lead.captured',
      options: {
        options: [
          { label: 'lead.captured: {email, name, source, …}', value: 'lead.captured' },
          { label: 'payment.received: {amount, currency, customer_email, invoice_id}', value: 'payment.received' },
          { label: 'contact.upsert: a contact’s fields, by email', value: 'contact.upsert' },
        ],
      },
    }),
    payload: Property.Json({
      displayName: 'Payload',
      description: 'The event as a JSON object, e.g. {"email": "lead@example.com", "name": "Ada Lovelace", "source": "website_form"}',
      required: true,
      defaultValue: { email: 'lead@example.com', name: 'Ada Lovelace', source: 'website_form' },
    }),
    idempotency_key: Property.ShortText({
      displayName: 'Idempotency key',
      description: 'An id that stays the same if the step runs again (a form submission id, a Stripe event id): a repeat within 24 h creates nothing new',
      required: false,
    }),
  },
  async run(context) {
    const { event_name, payload, idempotency_key } = context.propsValue;
    if (!payload || typeof payload !== 'object' || Array.isArray(payload)) throw new Error('The Payload must be a JSON object, e.g. {"email": "lead@example.com"}.');
    const key = idempotency_key?.trim();
    const { status, body } = await crmRequest(crmConnection(context.auth), {
      method: 'POST',
      path: `/api/webhooks/${encodeURIComponent(event_name)}`,
      auth: 'inbound',
      body: payload,
      headers: key ? { 'idempotency-key': key } : undefined,
    });
    return { ...(body as Record<string, unknown>), http_status: status };
  },
});
