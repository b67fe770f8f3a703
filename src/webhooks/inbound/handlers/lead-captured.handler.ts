import { Injectable } from '@nestjs/common';
import type { Contact } from '../../../contacts/contact.entity.js';
import { ContactsService } from '../../../contacts/contacts.service.js';
import { upsertContactByEmail } from './contact-upsert.js';
import { optionalString, requireEmail, type InboundEventContext, type InboundHandler } from './inbound-handler.js';

const CONTACT_FIELDS = ['email', 'name', 'first_name', 'last_name', 'phone', 'company', 'source'];

/**
 * lead.captured (a web form through n8n): upserts a contact by email. `name` is split into first and
 * last name; every other field (utm_campaign, metadata, …) is kept in custom_fields.
 */
@Injectable()
export class LeadCapturedHandler implements InboundHandler {
  readonly eventName = 'lead.captured';

  constructor(private readonly contacts: ContactsService) {}

  async handle({ manager, tenantId, payload }: InboundEventContext): Promise<Record<string, unknown>> {
    const email = requireEmail(payload, 'email');
    const name = optionalString(payload, 'name');
    const [nameFirst, ...nameRest] = name ? name.split(/\s+/) : [];
    const fields: Partial<Contact> = {
      firstName: optionalString(payload, 'first_name') ?? nameFirst,
      lastName: optionalString(payload, 'last_name') ?? (nameRest.length ? nameRest.join(' ') : undefined),
      phone: optionalString(payload, 'phone', 50),
      company: optionalString(payload, 'company'),
      source: optionalString(payload, 'source', 100),
    };
    const extra = Object.fromEntries(Object.entries(payload).filter(([key]) => !CONTACT_FIELDS.includes(key)));
    if (Object.keys(extra).length > 0) fields.customFields = extra;
    const defined = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<Contact>;
    const { contact, action } = await upsertContactByEmail(this.contacts, manager, tenantId, email, defined, { source: this.eventName });
    return { contact_id: contact.id, action };
  }
}
