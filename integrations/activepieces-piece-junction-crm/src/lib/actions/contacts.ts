import { Property, createAction } from '@activepieces/pieces-framework';
import { junctionCrmAuth } from '../auth';
import { CrmApiError, crmConnection, crmRequest, definedFields } from '../client';

export interface Contact {
  id: string;
  email: string | null;
  [field: string]: unknown;
}

const contactFields = (required: { email: boolean }) => ({
  first_name: Property.ShortText({ displayName: 'First name', required: false }),
  last_name: Property.ShortText({ displayName: 'Last name', required: false }),
  email: required.email
    ? Property.ShortText({ displayName: 'Email', description: 'Unique in the tenant, whatever its case', required: true })
    : Property.ShortText({ displayName: 'Email', description: 'Unique in the tenant, whatever its case', required: false }),
  phone: Property.ShortText({ displayName: 'Phone', required: false }),
  company: Property.ShortText({ displayName: 'Company', required: false }),
  source: Property.ShortText({ displayName: 'Source', description: 'Where the contact came from, e.g. website_form', required: false }),
  custom_fields: Property.Json({
    displayName: 'Custom fields',
    description: 'A JSON object of any extra fields, e.g. {"utm_campaign": "summer2026"}. It replaces the stored object.',
    required: false,
  }),
});

interface ContactInput {
  first_name?: string;
  last_name?: string;
  email?: string;
  phone?: string;
  company?: string;
  source?: string;
  custom_fields?: unknown;
}

/** The contact body from the step's fields: empty fields are left out (the CRM keeps what it has). */
function contactBody(input: ContactInput): Record<string, unknown> {
  const { custom_fields, ...fields } = input;
  const body = definedFields(fields);
  if (custom_fields !== undefined && custom_fields !== null && custom_fields !== '') body['custom_fields'] = custom_fields;
  return body;
}

export const createContact = createAction({
  auth: junctionCrmAuth,
  name: 'create_contact',
  displayName: 'Create Contact',
  description: 'Creates a contact (the CRM then sends contact.created). A duplicate email fails with CONTACT_EMAIL_TAKEN.',
  props: contactFields({ email: false }),
  async run(context) {
    const { body } = await crmRequest<Contact>(crmConnection(context.auth), { method: 'POST', path: '/api/contacts', body: contactBody(context.propsValue) });
    return body;
  },
});

export const updateContact = createAction({
  auth: junctionCrmAuth,
  name: 'update_contact',
  displayName: 'Update Contact',
  description: 'Changes the fields you fill in; empty fields stay as they are. The CRM sends contact.updated with the changes.',
  props: {
    contact_id: Property.ShortText({ displayName: 'Contact ID', description: 'The contact’s id (contact_id in CRM events)', required: true }),
    ...contactFields({ email: false }),
  },
  async run(context) {
    const { contact_id, ...fields } = context.propsValue;
    const { body } = await crmRequest<Contact>(crmConnection(context.auth), {
      method: 'PATCH',
      path: `/api/contacts/${encodeURIComponent(contact_id.trim())}`,
      body: contactBody(fields),
    });
    return body;
  },
});

export const findContact = createAction({
  auth: junctionCrmAuth,
  name: 'find_contact',
  displayName: 'Find Contact',
  description: 'Finds contacts by exact email, or by a search over name, email and company. `found` tells whether there was a match.',
  props: {
    email: Property.ShortText({ displayName: 'Email', description: 'Exact email (case-insensitive)', required: false }),
    search: Property.ShortText({ displayName: 'Search', description: 'Text searched in first/last name, email and company (used when Email is empty)', required: false }),
    limit: Property.Number({ displayName: 'Maximum results', description: '1 to 200; 10 when empty', required: false }),
  },
  async run(context) {
    const email = context.propsValue.email?.trim();
    const search = context.propsValue.search?.trim();
    if (!email && !search) throw new Error('Find Contact needs an Email or a Search text.');
    const limit = Math.min(Math.max(Math.trunc(context.propsValue.limit ?? 10), 1), 200);
    const { body } = await crmRequest<{ data: Contact[] }>(crmConnection(context.auth), {
      method: 'GET',
      path: '/api/contacts',
      query: email ? { email, limit } : { q: search, limit },
    });
    const contacts = body?.data ?? [];
    return { found: contacts.length > 0, count: contacts.length, contact: contacts[0] ?? null, contacts };
  },
});

export const upsertContact = createAction({
  auth: junctionCrmAuth,
  name: 'upsert_contact',
  displayName: 'Create or Update Contact',
  description: 'Updates the contact with this email, or creates it when there is none. `action` says which happened.',
  props: contactFields({ email: true }),
  async run(context) {
    const connection = crmConnection(context.auth);
    const fields = contactBody(context.propsValue);
    const email = String(fields['email'] ?? '').trim();
    const existing = async () =>
      (await crmRequest<{ data: Contact[] }>(connection, { method: 'GET', path: '/api/contacts', query: { email, limit: 1 } })).body?.data?.[0];
    const update = async (contact: Contact) => {
      const { email: _same, ...changes } = fields;
      const { body } = await crmRequest<Contact>(connection, { method: 'PATCH', path: `/api/contacts/${contact.id}`, body: changes });
      return { action: 'updated' as const, contact: body };
    };
    const found = await existing();
    if (found) return update(found);
    try {
      const { body } = await crmRequest<Contact>(connection, { method: 'POST', path: '/api/contacts', body: fields });
      return { action: 'created' as const, contact: body };
    } catch (error) {
      // Created by someone else between the lookup and the create: update that one (the 409 names it).
      if (error instanceof CrmApiError && error.status === 409) {
        const existingId = (error.body as { existing_id?: unknown } | undefined)?.existing_id;
        const raced = typeof existingId === 'string' ? ({ id: existingId, email } as Contact) : await existing();
        if (raced) return update(raced);
      }
      throw error;
    }
  },
});
