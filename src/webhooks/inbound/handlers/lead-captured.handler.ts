import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Contact } from '../../../contacts/contact.entity.js';
import { definedFields } from '../../../common/records/record-fields.js';
import { ContactsService } from '../../../contacts/contacts.service.js';
import { optionalString, requireEmail, type InboundEventContext, type InboundHandler } from './inbound-handler.js';

const CONTACT_FIELDS = ['email', 'name', 'first_name', 'last_name', 'phone', 'company', 'source'];

interface Lead {
  email: string;
  fields: Partial<Contact>;
}

/**
 * lead.captured (a web form through n8n): upserts a contact by email. `name` is split into first and
 * last name; every other field (utm_campaign, metadata, …) is kept in custom_fields.
 */
@Injectable()
export class LeadCapturedHandler implements InboundHandler<Lead> {
  readonly eventName = 'lead.captured';

  constructor(private readonly contacts: ContactsService) {}

  parse(payload: Record<string, unknown>): Lead {
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
    return { email, fields: definedFields(fields) };
  }

  async handle({ manager, tenantId }: InboundEventContext, lead: Lead): Promise<Record<string, unknown>> {
    const [result] = await this.handleMany(manager, tenantId, [lead]);
    return result;
  }

  /** One locked read for all the batch's contacts (ContactsService.upsertManyByEmail); a new contact's source is lead.captured. */
  async handleMany(manager: EntityManager, tenantId: string, leads: Lead[]): Promise<Array<Record<string, unknown>>> {
    const defaultsOnCreate = { source: this.eventName };
    const results = await this.contacts.upsertManyByEmail(manager, tenantId, leads.map((lead) => ({ ...lead, defaultsOnCreate })));
    return results.map(({ contact, action }) => ({ contact_id: contact.id, action }));
  }
}
