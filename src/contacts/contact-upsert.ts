import type { EntityManager } from 'typeorm';
import type { Contact } from './contact.entity.js';
import type { ContactsService } from './contacts.service.js';

export type UpsertAction = 'created' | 'updated' | 'unchanged';

/**
 * Creates the tenant's contact with this email (`defaultsOnCreate` filling what is not given), or updates
 * the existing one (locked for the transaction) with the fields given; custom_fields are merged. contact.created / contact.updated are published by the
 * contacts service in the same transaction (nothing when nothing changed). A caller that already holds the
 * contact (looked up and locked in this transaction, or null for none) passes it as `known`.
 */
export async function upsertContactByEmail(
  contacts: ContactsService,
  manager: EntityManager,
  tenantId: string,
  email: string,
  fields: Partial<Contact>,
  defaultsOnCreate: Partial<Contact> = {},
  known?: Contact | null,
): Promise<{ contact: Contact; action: UpsertAction }> {
  const existing = known !== undefined ? known : await contacts.findByEmail(manager, tenantId, email, true);
  if (!existing) return { contact: await contacts.insert(manager, tenantId, { ...defaultsOnCreate, ...fields, email }), action: 'created' };
  const changes: Partial<Contact> = { ...fields };
  if (fields.customFields) changes.customFields = { ...existing.customFields, ...fields.customFields };
  const { contact, changed } = await contacts.applyChangesReporting(manager, tenantId, existing.id, changes);
  return { contact, action: changed ? 'updated' : 'unchanged' };
}
