import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import type { AuthContext } from '../common/auth/auth-context.js';
import { isUniqueViolation } from '../common/http/conflict.js';
import { AppError, duplicateOf, invalidField } from '../common/errors/app-error.js';
import { canonicalAmount, CURRENCY, isPositiveAmount } from '../common/http/money.js';
import { paginate } from '../common/http/pagination.js';
import { ContactsService } from '../contacts/contacts.service.js';
import { diffFields, DomainEventPublisher } from '../events/domain-event-publisher.js';
import {
  invoiceEventFields,
  InvoiceResponseDto,
  type CreateInvoiceDto,
  type ListInvoicesQueryDto,
  type UpdateInvoiceDto,
} from './dto/invoice.dto.js';
import { Invoice } from './invoice.entity.js';

const EVENT_FIELDS = ['number', 'amount', 'currency', 'status', 'contact_id', 'external_id', 'paid_at'] as const;
const NUMBER_CONSTRAINT = 'invoices_tenant_id_number_key';
const EXTERNAL_ID_CONSTRAINT = 'invoices_tenant_id_external_id_key';
const MAX_NUMBER_LENGTH = 64;

/** What a write ran into: nothing, or the unique field another invoice of the tenant already holds. */
type WriteOutcome = 'written' | 'number_taken' | 'external_id_taken';

export interface PaidInvoiceInput {
  externalId: string;
  /** A number or numeric string > 0 with at most 2 decimals. */
  amount: string | number;
  /** ISO 4217 code, any case. */
  currency: string;
  contactId?: string | null;
  /** The invoice number; INV-<external id> (or a random INV-… when that is taken or too long) when absent. */
  number?: string;
}

export interface PaidInvoiceResult {
  invoice: Invoice;
  /** created: a new paid invoice; paid: an existing one was marked paid; unchanged: it was paid already. */
  action: 'created' | 'paid' | 'unchanged';
}

/** The request's fields as entity properties; undefined means "not given". */
function toEntityFields(dto: CreateInvoiceDto | UpdateInvoiceDto): Partial<Invoice> {
  const fields: Partial<Invoice> = {
    number: dto.number,
    amount: dto.amount,
    currency: dto.currency,
    status: dto.status,
    contactId: dto.contact_id,
    externalId: dto.external_id,
    paidAt: dto.paid_at === undefined ? undefined : dto.paid_at === null ? null : new Date(dto.paid_at),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<Invoice>;
}


@Injectable()
export class InvoicesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly events: DomainEventPublisher,
    private readonly contacts: ContactsService,
  ) {}

  async create(auth: AuthContext, dto: CreateInvoiceDto): Promise<InvoiceResponseDto> {
    const invoice = await this.dataSource.transaction((manager) => this.insert(manager, auth.tenantId, toEntityFields(dto)));
    return InvoiceResponseDto.from(invoice);
  }

  /**
   * Inserts an invoice in the caller's transaction and publishes invoice.created, plus invoice.paid when it
   * is created paid (paid_at defaults to now). A taken number or external_id is a 409 naming the holder.
   */
  async insert(manager: EntityManager, tenantId: string, fields: Partial<Invoice>): Promise<Invoice> {
    const invoice = await this.insertOrReport(manager, tenantId, fields);
    if (invoice instanceof Invoice) return invoice;
    throw await this.conflictFor(manager, tenantId, invoice, fields);
  }

  async list(auth: AuthContext, query: ListInvoicesQueryDto): Promise<{ data: InvoiceResponseDto[]; next_cursor: string | null }> {
    const builder = this.dataSource.getRepository(Invoice).createQueryBuilder('i').where('i.tenantId = :tenantId', { tenantId: auth.tenantId });
    if (query.status) builder.andWhere('i.status = :status', { status: query.status });
    if (query.contact_id) builder.andWhere('i.contactId = :contactId', { contactId: query.contact_id });
    if (query.external_id) builder.andWhere('i.externalId = :externalId', { externalId: query.external_id });
    return paginate(builder, query, InvoiceResponseDto.from);
  }

  async get(auth: AuthContext, id: string): Promise<InvoiceResponseDto> {
    return InvoiceResponseDto.from(await this.findOrFail(this.dataSource.manager, auth.tenantId, id));
  }

  async update(auth: AuthContext, id: string, dto: UpdateInvoiceDto): Promise<InvoiceResponseDto> {
    const invoice = await this.dataSource.transaction((manager) => this.applyChanges(manager, auth.tenantId, id, toEntityFields(dto)));
    return InvoiceResponseDto.from(invoice);
  }

  /**
   * Applies changes to an invoice (locked for the transaction). Becoming paid sets paid_at to now and
   * publishes invoice.paid; leaving paid clears paid_at (unless given); a void invoice stays void. Other
   * changes publish nothing (the catalog has no invoice.updated); a change that changes nothing writes nothing.
   */
  async applyChanges(manager: EntityManager, tenantId: string, id: string, fields: Partial<Invoice>): Promise<Invoice> {
    const repository = manager.getRepository(Invoice);
    const before = await this.findOrFail(manager, tenantId, id, true);
    const status = fields.status ?? before.status;
    if (before.status === 'void' && status !== 'void') {
      throw new AppError('INVOICE_VOID', `Invoice ${before.number} is void and cannot become ${status}; create a new invoice instead`);
    }
    const becomesPaid = status === 'paid' && before.status !== 'paid';
    const target = { ...fields };
    if (becomesPaid && !target.paidAt) target.paidAt = new Date();
    else if (target.paidAt === undefined && before.status === 'paid' && status !== 'paid') target.paidAt = null;
    else if (status === 'paid' && target.paidAt === null) {
      throw invalidField('paid_at', 'paid_at cannot be cleared while the invoice is paid; change status as well');
    }

    const candidate = repository.merge(repository.create({ ...before }), target);
    const changes = diffFields(invoiceEventFields(before), invoiceEventFields(candidate), EVENT_FIELDS);
    if (Object.keys(changes).length === 0) return before;
    if (changes.contact_id && candidate.contactId) await this.contacts.assertInTenant(manager, tenantId, candidate.contactId);
    const unique = { number: changes.number ? candidate.number : undefined, externalId: changes.external_id ? candidate.externalId : undefined };
    const outcome =
      (await this.takenField(manager, tenantId, unique)) ??
      (await this.writeInSavepoint(manager, (savepoint) =>
        savepoint.getRepository(Invoice).update({ id, tenantId }, target as QueryDeepPartialEntity<Invoice>),
      ));
    if (outcome !== 'written') throw await this.conflictFor(manager, tenantId, outcome, unique);
    const after = await repository.findOneByOrFail({ id });
    if (becomesPaid) await this.events.publish(manager, tenantId, 'invoice.paid', invoiceEventFields(after));
    return after;
  }

  /**
   * For inbound payment webhooks, in the caller's transaction: marks the tenant's invoice with this external id
   * paid, or creates it paid when there is none, publishing invoice.created / invoice.paid as the change
   * warrants. An invoice that is void is an INVOICE_VOID error; a bad amount, currency or contact a VALIDATION_FAILED one.
   */
  async upsertPaidByExternalId(manager: EntityManager, tenantId: string, input: PaidInvoiceInput): Promise<PaidInvoiceResult> {
    const externalId = input.externalId.trim();
    if (!externalId) throw invalidField('external_id', 'external_id must not be empty');
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const existing = await this.findByExternalId(manager, tenantId, externalId, true);
      if (existing) return this.markPaid(manager, tenantId, existing, input.contactId ?? null);

      const fields = this.paidInvoiceFields(input, externalId, attempt > 0);
      const outcome = await this.insertOrReport(manager, tenantId, fields);
      if (outcome instanceof Invoice) return { invoice: outcome, action: 'created' };
      // external_id_taken: a concurrent writer created it since the lookup; the next round marks it paid.
      if (outcome === 'number_taken' && input.number) throw await this.conflictFor(manager, tenantId, outcome, fields);
    }
    throw new AppError('WRITE_CONFLICT', `Could not record the payment of invoice ${externalId}: its number kept colliding; retry`);
  }

  /** The tenant's invoice with this external id (locked for the transaction when asked), or null. */
  findByExternalId(manager: EntityManager, tenantId: string, externalId: string, lock = false): Promise<Invoice | null> {
    const query = manager
      .getRepository(Invoice)
      .createQueryBuilder('i')
      .where('i.tenantId = :tenantId AND i.externalId = :externalId', { tenantId, externalId });
    if (lock) query.setLock('pessimistic_write');
    return query.getOne();
  }

  /** Marks a locked invoice paid, linking the payer's contact if it had none; a paid one is left as it is. */
  private async markPaid(manager: EntityManager, tenantId: string, invoice: Invoice, contactId: string | null): Promise<PaidInvoiceResult> {
    if (invoice.status === 'paid') return { invoice, action: 'unchanged' };
    const link = invoice.contactId === null && contactId ? { contactId } : {};
    return { invoice: await this.applyChanges(manager, tenantId, invoice.id, { status: 'paid', ...link }), action: 'paid' };
  }

  private paidInvoiceFields(input: PaidInvoiceInput, externalId: string, randomNumber: boolean): Partial<Invoice> {
    const amount = canonicalAmount(input.amount);
    if (!amount || !isPositiveAmount(amount)) throw invalidField('amount', `amount must be a number > 0 with at most 2 decimals, not ${String(input.amount)}`);
    const currency = input.currency.trim().toUpperCase();
    if (!CURRENCY.test(currency)) throw invalidField('currency', `currency must be a 3-letter ISO 4217 code, not ${input.currency}`);
    const derived = `INV-${externalId}`;
    const number =
      input.number?.trim() ||
      (randomNumber || derived.length > MAX_NUMBER_LENGTH ? `INV-${randomBytes(6).toString('hex').toUpperCase()}` : derived);
    return { number, amount, currency, status: 'paid', paidAt: new Date(), contactId: input.contactId ?? null, externalId };
  }

  /** Inserts the invoice and publishes its events; or says which unique field is taken, leaving the transaction usable. */
  private async insertOrReport(manager: EntityManager, tenantId: string, fields: Partial<Invoice>): Promise<Invoice | Exclude<WriteOutcome, 'written'>> {
    const status = fields.status ?? 'open';
    const values: Partial<Invoice> = { ...fields, id: randomUUID(), tenantId, status };
    if (status === 'paid' && !values.paidAt) values.paidAt = new Date();
    if (values.contactId) await this.contacts.assertInTenant(manager, tenantId, values.contactId);
    const outcome =
      (await this.takenField(manager, tenantId, values)) ??
      (await this.writeInSavepoint(manager, (savepoint) => savepoint.getRepository(Invoice).insert(values as QueryDeepPartialEntity<Invoice>)));
    if (outcome !== 'written') return outcome;
    const saved = await manager.getRepository(Invoice).findOneByOrFail({ id: values.id });
    await this.events.publish(manager, tenantId, 'invoice.created', invoiceEventFields(saved));
    if (saved.status === 'paid') await this.events.publish(manager, tenantId, 'invoice.paid', invoiceEventFields(saved));
    return saved;
  }

  /** Which of these unique values another invoice of the tenant already holds, if any. */
  private async takenField(
    manager: EntityManager,
    tenantId: string,
    fields: Pick<Partial<Invoice>, 'number' | 'externalId'>,
  ): Promise<Exclude<WriteOutcome, 'written'> | null> {
    if (!fields.number && !fields.externalId) return null;
    const holder = await manager
      .getRepository(Invoice)
      .createQueryBuilder('i')
      .select(['i.id', 'i.number', 'i.externalId'])
      .where('i.tenantId = :tenantId', { tenantId })
      .andWhere('(i.number = :number OR i.externalId = :externalId)', { number: fields.number ?? null, externalId: fields.externalId ?? null })
      .getOne();
    if (!holder) return null;
    return fields.number && holder.number === fields.number ? 'number_taken' : 'external_id_taken';
  }

  /**
   * Runs a write in a savepoint, so a unique violation (a concurrent writer took the number or external id
   * after takenField looked) rolls back only the write and the transaction can still answer with the holder's id.
   */
  private async writeInSavepoint(manager: EntityManager, write: (savepoint: EntityManager) => Promise<unknown>): Promise<WriteOutcome> {
    try {
      await manager.transaction(write);
      return 'written';
    } catch (error) {
      if (isUniqueViolation(error, NUMBER_CONSTRAINT)) return 'number_taken';
      if (isUniqueViolation(error, EXTERNAL_ID_CONSTRAINT)) return 'external_id_taken';
      throw error;
    }
  }

  /** The 409 for a taken number or external id, naming the invoice that holds it. */
  private async conflictFor(
    manager: EntityManager,
    tenantId: string,
    outcome: Exclude<WriteOutcome, 'written'>,
    fields: Pick<Partial<Invoice>, 'number' | 'externalId'>,
  ): Promise<AppError> {
    const repository = manager.getRepository(Invoice);
    if (outcome === 'number_taken') {
      const holder = fields.number ? await repository.findOneBy({ tenantId, number: fields.number }) : null;
      const message = `An invoice with number ${fields.number} already exists`;
      return holder ? duplicateOf('INVOICE_NUMBER_TAKEN', `${message} (id ${holder.id})`, 'number', holder.id) : new AppError('INVOICE_NUMBER_TAKEN', message);
    }
    const holder = fields.externalId ? await this.findByExternalId(manager, tenantId, fields.externalId) : null;
    const message = `An invoice with external_id ${fields.externalId} already exists`;
    return holder ? duplicateOf('INVOICE_EXTERNAL_ID_TAKEN', `${message} (id ${holder.id})`, 'external_id', holder.id) : new AppError('INVOICE_EXTERNAL_ID_TAKEN', message);
  }

  private async findOrFail(manager: EntityManager, tenantId: string, id: string, lock = false): Promise<Invoice> {
    const query = manager.getRepository(Invoice).createQueryBuilder('i').where('i.id = :id AND i.tenantId = :tenantId', { id, tenantId });
    if (lock) query.setLock('pessimistic_write');
    const invoice = await query.getOne();
    if (!invoice) throw new AppError('INVOICE_NOT_FOUND', `Invoice ${id} not found`);
    return invoice;
  }
}
