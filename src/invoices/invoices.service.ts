import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import type { AuthContext } from '../common/auth/auth-context.js';
import { AppError, invalidField } from '../common/errors/app-error.js';
import type { ErrorCode } from '../common/errors/error-codes.js';
import { canonicalAmount, CURRENCY, isPositiveAmount } from '../common/http/money.js';
import { paginate } from '../common/http/pagination.js';
import { definedFields } from '../common/records/record-fields.js';
import { TenantRecords } from '../common/records/tenant-records.js';
import { ContactsService } from '../contacts/contacts.service.js';
import { DomainEventPublisher } from '../events/domain-event-publisher.js';
import {
  invoiceEventFields,
  InvoiceResponseDto,
  type CreateInvoiceDto,
  type ListInvoicesQueryDto,
  type UpdateInvoiceDto,
} from './dto/invoice.dto.js';
import { Invoice } from './invoice.entity.js';

const MAX_NUMBER_LENGTH = 64;

const INVOICES = new TenantRecords({
  entity: Invoice,
  alias: 'i',
  noun: 'invoice',
  notFound: 'INVOICE_NOT_FOUND',
  snapshot: invoiceEventFields,
  diffed: ['number', 'amount', 'currency', 'status', 'contact_id', 'external_id', 'paid_at'],
  // external_id first: a payment racing another for the same external id finds that invoice, not its number.
  unique: [
    { constraint: 'invoices_tenant_id_external_id_key', property: 'externalId', field: 'external_id', code: 'INVOICE_EXTERNAL_ID_TAKEN' },
    { constraint: 'invoices_tenant_id_number_key', property: 'number', field: 'number', code: 'INVOICE_NUMBER_TAKEN' },
  ],
});

/** What a payment's invoice may run into and try again: a concurrent writer of its external id or its derived number. */
const RETRIED_CONFLICTS: ErrorCode[] = ['INVOICE_EXTERNAL_ID_TAKEN', 'INVOICE_NUMBER_TAKEN', 'WRITE_CONFLICT'];

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
  return definedFields<Partial<Invoice>>({
    number: dto.number,
    amount: dto.amount,
    currency: dto.currency,
    status: dto.status,
    contactId: dto.contact_id,
    externalId: dto.external_id,
    paidAt: dto.paid_at === undefined ? undefined : dto.paid_at === null ? null : new Date(dto.paid_at),
  });
}

/**
 * The fields an update of this invoice writes: becoming paid sets paid_at to now (unless given), leaving paid
 * clears it (unless given); a void invoice stays void, and a paid one keeps its paid_at.
 */
function withPaymentRules(before: Invoice, fields: Partial<Invoice>): Partial<Invoice> {
  const status = fields.status ?? before.status;
  if (before.status === 'void' && status !== 'void') {
    throw new AppError('INVOICE_VOID', `Invoice ${before.number} is void and cannot become ${status}; create a new invoice instead`);
  }
  const target = { ...fields };
  if (status === 'paid' && before.status !== 'paid' && !target.paidAt) target.paidAt = new Date();
  else if (target.paidAt === undefined && before.status === 'paid' && status !== 'paid') target.paidAt = null;
  else if (status === 'paid' && target.paidAt === null) {
    throw invalidField('paid_at', 'paid_at cannot be cleared while the invoice is paid; change status as well');
  }
  return target;
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
    const status = fields.status ?? 'open';
    const values: Partial<Invoice> = { ...fields, status };
    if (status === 'paid' && !values.paidAt) values.paidAt = new Date();
    if (values.contactId) await this.contacts.assertInTenant(manager, tenantId, values.contactId);
    const invoice = await INVOICES.insert(manager, tenantId, values);
    await this.events.publish(manager, tenantId, 'invoice.created', invoiceEventFields(invoice));
    if (invoice.status === 'paid') await this.events.publish(manager, tenantId, 'invoice.paid', invoiceEventFields(invoice));
    return invoice;
  }

  async list(auth: AuthContext, query: ListInvoicesQueryDto): Promise<{ data: InvoiceResponseDto[]; next_cursor: string | null }> {
    const builder = INVOICES.query(this.dataSource.manager, auth.tenantId);
    if (query.status) builder.andWhere('i.status = :status', { status: query.status });
    if (query.contact_id) builder.andWhere('i.contactId = :contactId', { contactId: query.contact_id });
    if (query.external_id) builder.andWhere('i.externalId = :externalId', { externalId: query.external_id });
    return paginate(builder, query, InvoiceResponseDto.from);
  }

  async get(auth: AuthContext, id: string): Promise<InvoiceResponseDto> {
    return InvoiceResponseDto.from(await INVOICES.findOrFail(this.dataSource.manager, auth.tenantId, id));
  }

  async update(auth: AuthContext, id: string, dto: UpdateInvoiceDto): Promise<InvoiceResponseDto> {
    const invoice = await this.dataSource.transaction((manager) => this.applyChanges(manager, auth.tenantId, id, toEntityFields(dto)));
    return InvoiceResponseDto.from(invoice);
  }

  /**
   * Applies changes to an invoice (locked for the transaction), under withPaymentRules; becoming paid publishes
   * invoice.paid. Other changes publish nothing (the catalog has no invoice.updated); a change that changes
   * nothing writes nothing. A taken number or external_id is a 409 naming the holder, and changes nothing.
   */
  async applyChanges(manager: EntityManager, tenantId: string, id: string, fields: Partial<Invoice>): Promise<Invoice> {
    const { record } = await INVOICES.change(manager, tenantId, id, (before) => withPaymentRules(before, fields), {
      check: (candidate, changes) => this.contacts.assertLinkable(manager, tenantId, candidate.contactId, changes),
      publish: async ({ before, after }) => {
        if (after.status === 'paid' && before.status !== 'paid') await this.events.publish(manager, tenantId, 'invoice.paid', invoiceEventFields(after));
      },
    });
    return record;
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
      try {
        return { invoice: await this.insert(manager, tenantId, this.paidInvoiceFields(input, externalId, attempt > 0)), action: 'created' };
      } catch (error) {
        // A concurrent writer created it since the lookup (the next round marks it paid), or took the derived
        // number (the next round draws a random one); a number the payment gave is final.
        const retried = error instanceof AppError && RETRIED_CONFLICTS.includes(error.code);
        if (!retried || (error.code === 'INVOICE_NUMBER_TAKEN' && input.number)) throw error;
      }
    }
    throw new AppError('WRITE_CONFLICT', `Could not record the payment of invoice ${externalId}: its number kept colliding; retry`);
  }

  /** The tenant's invoice with this external id (locked for the transaction when asked), or null. */
  findByExternalId(manager: EntityManager, tenantId: string, externalId: string, lock = false): Promise<Invoice | null> {
    const query = INVOICES.query(manager, tenantId).andWhere('i.externalId = :externalId', { externalId });
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
}
