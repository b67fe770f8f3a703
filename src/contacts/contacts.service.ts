import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import type { AuthContext } from '../common/auth/auth-context.js';
import { isUniqueViolation } from '../common/http/conflict.js';
import { paginate } from '../common/http/pagination.js';
import { diffFields, DomainEventPublisher } from '../events/domain-event-publisher.js';
import { Contact } from './contact.entity.js';
import {
  contactEventFields,
  ContactResponseDto,
  type CreateContactDto,
  type ListContactsQueryDto,
  type UpdateContactDto,
} from './dto/contact.dto.js';
import { AppError, duplicateOf, invalidField } from '../common/errors/app-error.js';

// Must match the expression of contacts_search_trgm_idx in the migration, or the index is not used.
const SEARCH_EXPRESSION = `lower(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '') || ' ' || coalesce(c.email, '') || ' ' || coalesce(c.company, ''))`;
const EMAIL_CONSTRAINT = 'contacts_tenant_id_email_lower_key';
const EVENT_FIELDS = ['first_name', 'last_name', 'email', 'phone', 'company', 'source', 'custom_fields'] as const;

interface ContactRow {
  id: string;
  tenant_id: string;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  phone: string | null;
  company: string | null;
  source: string | null;
  custom_fields: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

function contactFromRow(row: ContactRow): Contact {
  return Object.assign(new Contact(), {
    id: row.id,
    tenantId: row.tenant_id,
    firstName: row.first_name,
    lastName: row.last_name,
    email: row.email,
    phone: row.phone,
    company: row.company,
    source: row.source,
    customFields: row.custom_fields,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  });
}

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
  const fields: Partial<Contact> = {
    firstName: dto.first_name,
    lastName: dto.last_name,
    email: dto.email,
    phone: dto.phone,
    company: dto.company,
    source: dto.source,
    customFields: dto.custom_fields,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<Contact>;
}

@Injectable()
export class ContactsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly events: DomainEventPublisher,
  ) {}

  async create(auth: AuthContext, dto: CreateContactDto): Promise<ContactResponseDto> {
    const contact = await this.dataSource.transaction((manager) => this.insert(manager, auth.tenantId, toEntityFields(dto)));
    return ContactResponseDto.from(contact);
  }

  /**
   * Inserts a contact and publishes contact.created in the caller's transaction; a taken email (checked by
   * the unique index itself, so concurrent inserts cannot both win) is a 409 naming the holder.
   */
  async insert(manager: EntityManager, tenantId: string, fields: Partial<Contact>): Promise<Contact> {
    assertIdentifiable(fields);
    const [row] = await manager.query<ContactRow[]>(
      `INSERT INTO contacts (tenant_id, first_name, last_name, email, phone, company, source, custom_fields)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT DO NOTHING
       RETURNING *`,
      [
        tenantId,
        fields.firstName ?? null,
        fields.lastName ?? null,
        fields.email ?? null,
        fields.phone ?? null,
        fields.company ?? null,
        fields.source ?? null,
        JSON.stringify(fields.customFields ?? {}),
      ],
    );
    if (!row) {
      if (fields.email) await this.assertEmailFree(manager, tenantId, fields.email);
      throw new AppError('WRITE_CONFLICT', 'The contact conflicts with one just written; retry');
    }
    const contact = contactFromRow(row);
    await this.events.publish(manager, tenantId, 'contact.created', contactEventFields(contact));
    return contact;
  }

  async list(auth: AuthContext, query: ListContactsQueryDto): Promise<{ data: ContactResponseDto[]; next_cursor: string | null }> {
    const builder = this.dataSource.getRepository(Contact).createQueryBuilder('c').where('c.tenantId = :tenantId', { tenantId: auth.tenantId });
    if (query.email) builder.andWhere('lower(c.email) = :email', { email: query.email.toLowerCase() });
    if (query.q) builder.andWhere(`${SEARCH_EXPRESSION} LIKE :pattern`, { pattern: `%${escapeLike(query.q.toLowerCase())}%` });
    return paginate(builder, query, ContactResponseDto.from);
  }

  async get(auth: AuthContext, id: string): Promise<ContactResponseDto> {
    return ContactResponseDto.from(await this.findOrFail(this.dataSource.manager, auth.tenantId, id));
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
    const repository = manager.getRepository(Contact);
    const before = await this.findOrFail(manager, tenantId, id, true);
    const candidate = repository.merge(repository.create({ ...before }), fields);
    const changes = diffFields(contactEventFields(before), contactEventFields(candidate), EVENT_FIELDS);
    if (Object.keys(changes).length === 0) return { contact: before, changed: false };
    assertIdentifiable(candidate);
    if (changes.email && candidate.email && candidate.email.toLowerCase() !== before.email?.toLowerCase()) {
      await this.assertEmailFree(manager, tenantId, candidate.email);
    }
    const write = (target: EntityManager) => target.getRepository(Contact).update({ id, tenantId }, fields as QueryDeepPartialEntity<Contact>);
    // Only the email is unique: other changes need no savepoint (two statements fewer per update).
    if (changes.email) await this.writeOrConflict(manager, tenantId, candidate.email, write);
    else await write(manager);
    const after = await repository.findOneByOrFail({ id });
    await this.events.publish(manager, tenantId, 'contact.updated', { ...contactEventFields(after), changes });
    return { contact: after, changed: true };
  }

  async remove(auth: AuthContext, id: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const contact = await this.findOrFail(manager, auth.tenantId, id, true);
      await manager.getRepository(Contact).delete({ id, tenantId: auth.tenantId });
      await this.events.publish(manager, auth.tenantId, 'contact.deleted', contactEventFields(contact));
    });
  }

  /**
   * Throws a 400 naming contact_id unless the contact belongs to the tenant (another tenant's reads exactly
   * like a missing one). The key-share lock keeps it from being deleted before the caller's transaction
   * commits, so a foreign key to it cannot fail afterwards.
   */
  async assertInTenant(manager: EntityManager, tenantId: string, contactId: string): Promise<void> {
    const contact = await manager
      .getRepository(Contact)
      .createQueryBuilder('c')
      .select('c.id')
      .where('c.id = :contactId AND c.tenantId = :tenantId', { contactId, tenantId })
      .setLock('for_key_share')
      .getOne();
    if (!contact) {
      throw invalidField('contact_id', `contact_id ${contactId} is not a contact of your tenant`);
    }
  }

  /** The tenant's contact with this email (any case), or null. */
  findByEmail(manager: EntityManager, tenantId: string, email: string, lock = false): Promise<Contact | null> {
    const query = manager
      .getRepository(Contact)
      .createQueryBuilder('c')
      .where('c.tenantId = :tenantId AND lower(c.email) = lower(:email)', { tenantId, email });
    if (lock) query.setLock('pessimistic_write');
    return query.getOne();
  }

  /** The tenant's contacts with any of these emails (any case), locked in id order (so concurrent callers cannot deadlock on them). */
  findByEmails(manager: EntityManager, tenantId: string, emails: string[]): Promise<Contact[]> {
    return manager
      .getRepository(Contact)
      .createQueryBuilder('c')
      .where('c.tenantId = :tenantId AND lower(c.email) = ANY(:emails)', { tenantId, emails: emails.map((email) => email.toLowerCase()) })
      .orderBy('c.id')
      .setLock('pessimistic_write')
      .getMany();
  }

  /**
   * Runs a write in a savepoint: when a concurrent writer took the email first, the unique index stops it,
   * the savepoint keeps the transaction usable, and the answer is the same 409 as the pre-check's.
   */
  private async writeOrConflict(manager: EntityManager, tenantId: string, email: string | null | undefined, write: (savepoint: EntityManager) => Promise<unknown>): Promise<void> {
    try {
      await manager.transaction(write);
    } catch (error) {
      if (isUniqueViolation(error, EMAIL_CONSTRAINT) && email) await this.assertEmailFree(manager, tenantId, email);
      throw error;
    }
  }

  private async assertEmailFree(manager: EntityManager, tenantId: string, email: string): Promise<void> {
    const existing = await this.findByEmail(manager, tenantId, email);
    if (existing) throw duplicateOf('CONTACT_EMAIL_TAKEN', `A contact with email ${email} already exists (id ${existing.id})`, 'email', existing.id);
  }

  private async findOrFail(manager: EntityManager, tenantId: string, id: string, lock = false): Promise<Contact> {
    const query = manager.getRepository(Contact).createQueryBuilder('c').where('c.id = :id AND c.tenantId = :tenantId', { id, tenantId });
    if (lock) query.setLock('pessimistic_write');
    const contact = await query.getOne();
    if (!contact) throw new AppError('CONTACT_NOT_FOUND', `Contact ${id} not found`);
    return contact;
  }
}
