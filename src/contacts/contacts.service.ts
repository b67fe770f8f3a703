import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { AuthContext } from '../common/auth/auth-context.js';
import { AppError, invalidField } from '../common/errors/app-error.js';
import { GroupCommit } from '../database/group-commit.js';
import { paginate } from '../common/http/pagination.js';
import { definedFields, type FieldChanges } from '../common/records/record-fields.js';
import { TenantRecords } from '../common/records/tenant-records.js';
import { DomainEventPublisher } from '../events/domain-event-publisher.js';
import { Contact } from './contact.entity.js';
import {
  contactEventFields,
  ContactResponseDto,
  type CreateContactDto,
  type ListContactsQueryDto,
  type UpdateContactDto,
} from './dto/contact.dto.js';

// Must match the expression of contacts_search_trgm_idx in the migration, or the index is not used.
const SEARCH_EXPRESSION = `lower(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '') || ' ' || coalesce(c.email, '') || ' ' || coalesce(c.company, ''))`;

export type UpsertAction = 'created' | 'updated' | 'unchanged';

const CONTACTS = new TenantRecords({
  entity: Contact,
  alias: 'c',
  noun: 'contact',
  notFound: 'CONTACT_NOT_FOUND',
  snapshot: contactEventFields,
  diffed: ['first_name', 'last_name', 'email', 'phone', 'company', 'source', 'custom_fields'],
  unique: [{ constraint: 'contacts_tenant_id_email_lower_key', property: 'email', field: 'email', code: 'CONTACT_EMAIL_TAKEN', ignoreCase: true }],
});

/** A contact must be someone: an email, or at least a name or a company (a 400 otherwise, nothing stored). */
function assertIdentifiable(contact: Partial<Pick<Contact, 'email' | 'firstName' | 'lastName' | 'company'>>): void {
  if (contact.email || contact.firstName || contact.lastName || contact.company) return;
  const message = 'A contact needs an email or at least one of first_name, last_name, company';
  throw new AppError('VALIDATION_FAILED', message, { details: [{ field: 'email', message }] });
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (character) => `\\${character}`);
}

/** The request's fields as entity properties; undefined means "not given". */
export function toEntityFields(dto: CreateContactDto | UpdateContactDto): Partial<Contact> {
  return definedFields<Partial<Contact>>({
    firstName: dto.first_name,
    lastName: dto.last_name,
    email: dto.email,
    phone: dto.phone,
    company: dto.company,
    source: dto.source,
    customFields: dto.custom_fields,
  });
}

type NewContact = { tenantId: string; fields: Partial<Contact> };

@Injectable()
export class ContactsService {
  /**
   * POST /api/contacts: the creates that arrive while one is being written are written together, in one
   * transaction (one INSERT of the contacts, one of their events, one fan-out); each is answered once that
   * transaction has committed, with its own contact or its own 409.
   */
  private readonly creates: GroupCommit<NewContact, Contact | AppError>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly events: DomainEventPublisher,
  ) {
    this.creates = new GroupCommit((batch) => this.dataSource.transaction((manager) => this.insertMany(manager, batch)), { maxBatch: 100, maxInFlight: 2 });
  }

  async create(auth: AuthContext, dto: CreateContactDto): Promise<ContactResponseDto> {
    const fields = toEntityFields(dto);
    assertIdentifiable(fields);
    const contact = await this.creates.submit({ tenantId: auth.tenantId, fields });
    if (contact instanceof AppError) throw contact;
    return ContactResponseDto.from(contact);
  }

  /**
   * Inserts a contact and publishes contact.created in the caller's transaction; a taken email (checked by
   * the unique index itself, so concurrent inserts cannot both win) is a 409 naming the holder.
   */
  async insert(manager: EntityManager, tenantId: string, fields: Partial<Contact>): Promise<Contact> {
    const [contact] = await this.insertMany(manager, [{ tenantId, fields }]);
    if (contact instanceof AppError) throw contact;
    return contact;
  }

  /**
   * insert for several contacts (of any tenants) and their contact.created events in one statement: one
   * answer per contact, in order, its record or the 409 that refused it. The contact is made whole here (its
   * id, its timestamps, the columns not given), so its event is built before the write and goes with it.
   */
  async insertMany(manager: EntityManager, contacts: NewContact[]): Promise<Array<Contact | AppError>> {
    for (const { fields } of contacts) assertIdentifiable(fields);
    const now = new Date();
    const records = contacts.map(({ tenantId, fields }) =>
      Object.assign(
        new Contact(),
        { id: randomUUID(), tenantId, firstName: null, lastName: null, email: null, phone: null, company: null, source: null, customFields: {} },
        fields,
        { createdAt: now, updatedAt: now },
      ),
    );
    const events = records.map((contact) => ({ tenantId: contact.tenantId, name: 'contact.created' as const, data: contactEventFields(contact), recordId: contact.id }));
    return CONTACTS.insertPublishing(manager, records, (write) => this.events.publishWithWrite(manager, write, events));
  }

  async list(auth: AuthContext, query: ListContactsQueryDto): Promise<{ data: ContactResponseDto[]; next_cursor: string | null }> {
    const builder = CONTACTS.query(this.dataSource.manager, auth.tenantId);
    if (query.email) builder.andWhere('lower(c.email) = :email', { email: query.email.toLowerCase() });
    if (query.q) builder.andWhere(`${SEARCH_EXPRESSION} LIKE :pattern`, { pattern: `%${escapeLike(query.q.toLowerCase())}%` });
    return paginate(builder, query, ContactResponseDto.from);
  }

  async get(auth: AuthContext, id: string): Promise<ContactResponseDto> {
    return ContactResponseDto.from(await CONTACTS.findOrFail(this.dataSource.manager, auth.tenantId, id));
  }

  async update(auth: AuthContext, id: string, dto: UpdateContactDto): Promise<ContactResponseDto> {
    const contact = await this.dataSource.transaction((manager) => this.applyChanges(manager, auth.tenantId, id, toEntityFields(dto)));
    return ContactResponseDto.from(contact);
  }

  /**
   * Applies changes to a contact (locked for the transaction) and publishes contact.updated with the
   * fields that really changed; a change that changes nothing writes and publishes nothing.
   */
  async applyChanges(manager: EntityManager, tenantId: string, id: string, fields: Partial<Contact>): Promise<Contact> {
    return (await this.applyChangesReporting(manager, tenantId, id, fields)).contact;
  }

  /** applyChanges, also saying whether anything changed (updated_at cannot tell inside one transaction: now() is fixed). */
  async applyChangesReporting(manager: EntityManager, tenantId: string, id: string, fields: Partial<Contact>): Promise<{ contact: Contact; changed: boolean }> {
    const { record, changed } = await CONTACTS.change(manager, tenantId, id, fields, {
      check: assertIdentifiable,
      publish: ({ after, changes }) => this.events.publish(manager, tenantId, 'contact.updated', { ...contactEventFields(after), changes }),
    });
    return { contact: record, changed };
  }

  /**
   * Creates the tenant's contact with this email (`defaultsOnCreate` filling what is not given), or updates
   * the existing one (locked for the transaction) with the fields given; custom_fields are merged. Publishes
   * contact.created / contact.updated in the caller's transaction (nothing when nothing changed). A caller
   * that already holds the contact (looked up and locked in this transaction, or null for none) passes it as `known`.
   */
  async upsertByEmail(
    manager: EntityManager,
    tenantId: string,
    email: string,
    fields: Partial<Contact>,
    defaultsOnCreate: Partial<Contact> = {},
    known?: Contact | null,
  ): Promise<{ contact: Contact; action: UpsertAction }> {
    const existing = known !== undefined ? known : await this.findByEmail(manager, tenantId, email, true);
    if (!existing) return { contact: await this.insert(manager, tenantId, { ...defaultsOnCreate, ...fields, email }), action: 'created' };
    const changes: Partial<Contact> = { ...fields };
    if (fields.customFields) changes.customFields = { ...existing.customFields, ...fields.customFields };
    const { contact, changed } = await this.applyChangesReporting(manager, tenantId, existing.id, changes);
    return { contact, action: changed ? 'updated' : 'unchanged' };
  }

  async remove(auth: AuthContext, id: string): Promise<void> {
    await this.dataSource.transaction((manager) =>
      CONTACTS.delete(manager, auth.tenantId, id, (contact) => this.events.publish(manager, auth.tenantId, 'contact.deleted', contactEventFields(contact))),
    );
  }

  /**
   * Throws a 400 naming contact_id unless the contact belongs to the tenant (another tenant's reads exactly
   * like a missing one). The key-share lock keeps it from being deleted before the caller's transaction
   * commits, so a foreign key to it cannot fail afterwards.
   */
  async assertInTenant(manager: EntityManager, tenantId: string, contactId: string): Promise<void> {
    const contact = await CONTACTS.query(manager, tenantId).select('c.id').andWhere('c.id = :contactId', { contactId }).setLock('for_key_share').getOne();
    if (!contact) {
      throw invalidField('contact_id', `contact_id ${contactId} is not a contact of your tenant`);
    }
  }

  /** For an update of a record linked to a contact: a contact_id it changes to must be one of the tenant's (assertInTenant). */
  async assertLinkable(manager: EntityManager, tenantId: string, contactId: string | null, changes: FieldChanges): Promise<void> {
    if (changes.contact_id && contactId) await this.assertInTenant(manager, tenantId, contactId);
  }

  /** The tenant's contact with this email (any case), or null. */
  findByEmail(manager: EntityManager, tenantId: string, email: string, lock = false): Promise<Contact | null> {
    const query = CONTACTS.query(manager, tenantId).andWhere('lower(c.email) = lower(:email)', { email });
    if (lock) query.setLock('pessimistic_write');
    return query.getOne();
  }

  /**
   * The tenant's contacts with any of these emails (any case), by lower-case email, in one read, locked in id
   * order (so concurrent callers cannot deadlock on them).
   */
  async lockByEmails(manager: EntityManager, tenantId: string, emails: string[]): Promise<Map<string, Contact>> {
    const lower = [...new Set(emails.map((email) => email.toLowerCase()))];
    const known = new Map<string, Contact>();
    if (lower.length === 0) return known;
    const contacts = await CONTACTS.query(manager, tenantId).andWhere('lower(c.email) = ANY(:emails)', { emails: lower }).orderBy('c.id').setLock('pessimistic_write').getMany();
    for (const contact of contacts) if (contact.email) known.set(contact.email.toLowerCase(), contact);
    return known;
  }

  /**
   * upsertByEmail for several contacts of one tenant, in order, with one locked read for all of them instead of
   * one per contact (an email named twice sees the first one's result). The creates that come one after
   * another are inserted (and their contact.created published) together, before the next update.
   */
  async upsertManyByEmail(
    manager: EntityManager,
    tenantId: string,
    items: Array<{ email: string; fields: Partial<Contact>; defaultsOnCreate?: Partial<Contact> }>,
  ): Promise<Array<{ contact: Contact; action: UpsertAction }>> {
    const known = await this.lockByEmails(manager, tenantId, items.map((item) => item.email));
    const results: Array<{ contact: Contact; action: UpsertAction }> = [];
    let creates: Array<{ index: number; email: string; fields: Partial<Contact> }> = [];
    const insertCreates = async () => {
      const inserted = await this.insertMany(manager, creates.map(({ fields }) => ({ tenantId, fields })));
      inserted.forEach((contact, position) => {
        if (contact instanceof AppError) throw contact;
        known.set(creates[position].email, contact);
        results[creates[position].index] = { contact, action: 'created' };
      });
      creates = [];
    };
    for (const [index, item] of items.entries()) {
      const email = item.email.toLowerCase();
      const existing = known.get(email);
      if (!existing && !creates.some((create) => create.email === email)) {
        creates.push({ index, email, fields: { ...item.defaultsOnCreate, ...item.fields, email: item.email } });
        continue;
      }
      if (creates.length > 0) await insertCreates();
      const result = await this.upsertByEmail(manager, tenantId, item.email, item.fields, item.defaultsOnCreate, known.get(email) ?? null);
      known.set(email, result.contact);
      results[index] = result;
    }
    if (creates.length > 0) await insertCreates();
    return results;
  }
}
