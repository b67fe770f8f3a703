import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Contact } from '../../../contacts/contact.entity.js';
import { definedFields } from '../../../common/records/record-fields.js';
import { ContactsService } from '../../../contacts/contacts.service.js';
import { optionalObject, optionalString, requireEmail, type InboundEventContext, type InboundHandler } from './inbound-handler.js';

interface ContactUpsert {
  email: string;
  fields: Partial<Contact>;
}

/** contact.upsert: the contact API's fields, created or updated by email. */
@Injectable()
export class ContactUpsertHandler implements InboundHandler<ContactUpsert> {
  readonly eventName = 'contact.upsert';

  constructor(private readonly contacts: ContactsService) {}

  parse(payload: Record<string, unknown>): ContactUpsert {
    return {
      email: requireEmail(payload, 'email'),
      fields: definedFields<Partial<Contact>>({
        firstName: optionalString(payload, 'first_name'),
        lastName: optionalString(payload, 'last_name'),
        phone: optionalString(payload, 'phone', 50),
        company: optionalString(payload, 'company'),
        source: optionalString(payload, 'source', 100),
        customFields: optionalObject(payload, 'custom_fields'),
      }),
    };
  }

  async handle({ manager, tenantId }: InboundEventContext, upsert: ContactUpsert): Promise<Record<string, unknown>> {
    const [result] = await this.handleMany(manager, tenantId, [upsert]);
    return result;
  }

  /** One locked read for all the batch's contacts (ContactsService.upsertManyByEmail). */
  async handleMany(manager: EntityManager, tenantId: string, upserts: ContactUpsert[]): Promise<Array<Record<string, unknown>>> {
    const results = await this.contacts.upsertManyByEmail(manager, tenantId, upserts);
    return results.map(({ contact, action }) => ({ contact_id: contact.id, action }));
  }
}
