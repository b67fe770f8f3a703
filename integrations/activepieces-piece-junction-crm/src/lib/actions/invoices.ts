import { Property, createAction } from '@activepieces/pieces-framework';
import { junctionCrmAuth } from '../auth';
import { crmConnection, crmRequest, definedFields } from '../client';
import { INVOICE_STATUSES } from '../samples';

export const createInvoice = createAction({
  auth: junctionCrmAuth,
  name: 'create_invoice',
  displayName: 'Create Invoice',
  description: 'Creates an invoice (the CRM sends invoice.created, and invoice.paid too when it is created paid).',
  props: {
    number: Property.ShortText({ displayName: 'Number', description: 'Unique in the tenant, e.g. INV-2026-0042', required: true }),
    amount: Property.ShortText({ displayName: 'Amount', description: 'A number > 0 with at most 2 decimals, e.g. 49 or 49.90', required: true }),
    currency: Property.ShortText({ displayName: 'Currency', description: 'ISO 4217 code; USD when empty', required: false }),
    status: Property.StaticDropdown<string, false>({
      displayName: 'Status',
      description: 'open when empty',
      required: false,
      options: { options: INVOICE_STATUSES.map((status) => ({ label: status, value: status })) },
    }),
    contact_id: Property.ShortText({ displayName: 'Contact ID', required: false }),
    external_id: Property.ShortText({ displayName: 'External ID', description: 'The id in the system the invoice came from (e.g. Stripe’s in_…); unique in the tenant', required: false }),
  },
  async run(context) {
    const { amount, ...rest } = context.propsValue;
    const { body } = await crmRequest(crmConnection(context.auth), {
      method: 'POST',
      path: '/api/invoices',
      body: definedFields({ ...rest, amount: typeof amount === 'string' ? amount.trim() : amount }),
    });
    return body;
  },
});

export const markInvoicePaid = createAction({
  auth: junctionCrmAuth,
  name: 'mark_invoice_paid',
  displayName: 'Mark Invoice Paid',
  description: 'Marks an invoice paid (the CRM sends invoice.paid).',
  props: {
    invoice_id: Property.ShortText({ displayName: 'Invoice ID', description: 'The invoice’s id (invoice_id in CRM events)', required: true }),
    paid_at: Property.DateTime({ displayName: 'Paid at', description: 'When it was paid; now when empty', required: false }),
  },
  async run(context) {
    const { invoice_id, paid_at } = context.propsValue;
    const { body } = await crmRequest(crmConnection(context.auth), {
      method: 'PATCH',
      path: `/api/invoices/${encodeURIComponent(invoice_id.trim())}`,
      body: definedFields({ status: 'paid', paid_at }),
    });
    return body;
  },
});
