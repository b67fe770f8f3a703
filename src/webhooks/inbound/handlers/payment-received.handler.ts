import { Injectable } from '@nestjs/common';
import { AppError } from '../../../common/errors/app-error.js';
import { canonicalAmount, CURRENCY, isPositiveAmount } from '../../../common/http/money.js';
import { ContactsService } from '../../../contacts/contacts.service.js';
import { InvoicesService } from '../../../invoices/invoices.service.js';
import { InvalidPayloadError, optionalString, requireEmail, type InboundEventContext, type InboundHandler } from './inbound-handler.js';

interface Payment {
  email: string;
  externalId: string;
  amount: string;
  currency: string;
}

/**
 * payment.received {amount, currency, customer_email, invoice_id} (e.g. Stripe through n8n): the contact
 * with customer_email (created if missing) gets the invoice with external_id = invoice_id, created as paid
 * or marked paid. invoice.created / invoice.paid go out in the same transaction.
 */
@Injectable()
export class PaymentReceivedHandler implements InboundHandler<Payment> {
  readonly eventName = 'payment.received';

  constructor(
    private readonly contacts: ContactsService,
    private readonly invoices: InvoicesService,
  ) {}

  parse(payload: Record<string, unknown>): Payment {
    const email = requireEmail(payload, 'customer_email');
    const externalId = optionalString(payload, 'invoice_id');
    if (!externalId) {
      throw new InvalidPayloadError('invoice_id is required: the id of the invoice in the payment system, e.g. in_1PQ2rS3tU4vW5xY6', 'invoice_id');
    }
    const amount = canonicalAmount(payload.amount);
    if (!amount || !isPositiveAmount(amount)) {
      throw new InvalidPayloadError('amount is required and must be a number greater than 0 with at most 2 decimals, e.g. 49.00', 'amount');
    }
    const currency = (optionalString(payload, 'currency', 3) ?? 'USD').toUpperCase();
    if (!CURRENCY.test(currency)) throw new InvalidPayloadError('currency must be a 3-letter ISO 4217 code such as USD or EUR', 'currency');
    return { email, externalId, amount, currency };
  }

  async handle({ manager, tenantId }: InboundEventContext, { email, externalId, amount, currency }: Payment): Promise<Record<string, unknown>> {
    const { contact, action: contactAction } = await this.contacts.upsertByEmail(manager, tenantId, email, {}, { source: this.eventName });
    try {
      const { invoice, action } = await this.invoices.upsertPaidByExternalId(manager, tenantId, { externalId, amount, currency, contactId: contact.id });
      return { invoice_id: invoice.id, contact_id: contact.id, action, contact_action: contactAction };
    } catch (error) {
      // The invoice rules' own answers (a void invoice, a taken number) are the payload's fault.
      if (error instanceof AppError && error.status < 500) throw new InvalidPayloadError(error.message, error.details?.[0]?.field);
      throw error;
    }
  }
}
