import type { Contact } from './contact.entity.js';
import type { ContactsService, UpsertAction } from './contacts.service.js';

export type { UpsertAction };

/**
 * ContactsService.upsertByEmail, in the form the inbound handlers call it. Kept until they call the service
 * method themselves; then this file and its entry in the lint rule's NOT_YET_PUBLIC go.
 */
export function upsertContactByEmail(
  contacts: ContactsService,
  ...args: Parameters<ContactsService['upsertByEmail']>
): Promise<{ contact: Contact; action: UpsertAction }> {
  return contacts.upsertByEmail(...args);
}
