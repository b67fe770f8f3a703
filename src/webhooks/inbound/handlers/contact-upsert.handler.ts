import { Injectable } from '@nestjs/common';
import type { Contact } from '../../../contacts/contact.entity.js';
import { ContactsService } from '../../../contacts/contacts.service.js';
import { upsertContactByEmail } from './contact-upsert.js';
import { optionalObject, optionalString, requireEmail, type InboundEventContext, type InboundHandler } from './inbound-handler.js';

/** contact.upsert: the contact API's fields, created or updated by email. */
@Injectable()
export class ContactUpsertHandler implements InboundHandler {
  readonly eventName = 'contact.upsert';

  constructor(private readonly contacts: ContactsService) {}

  async handle({ manager, tenantId, payload }: InboundEventContext): Promise<Record<string, unknown>> {
    const email = requireEmail(payload, 'email');
    const fields: Partial<Contact> = {
      firstName: optionalString(payload, 'first_name'),
      lastName: optionalString(payload, 'last_name'),
      phone: optionalString(payload, 'phone', 50),
      company: optionalString(payload, 'company'),
      source: optionalString(payload, 'source', 100),
      customFields: optionalObject(payload, 'custom_fields'),
    };
    const defined = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<Contact>;
    const { contact, action } = await upsertContactByEmail(this.contacts, manager, tenantId, email, defined);
    return { contact_id: contact.id, action };
  }
}
