import { BadRequestException, ConflictException, Injectable } from '@nestjs/common';
import { ContactsService } from '../../../contacts/contacts.service.js';
import { InvoicesService } from '../../../invoices/invoices.service.js';
import { upsertContactByEmail } from './contact-upsert.js';
import { InvalidPayloadError, optionalString, requireEmail, type InboundEventContext, type InboundHandler } from './inbound-handler.js';

/**
 * payment.received {amount, currency, customer_email, invoice_id} (e.g. Stripe through n8n): the contact
 * with customer_email (created if missing) gets the invoice with external_id = invoice_id, created as paid
 * or marked paid. invoice.created / invoice.paid go out in the same transaction.
 */
@Injectable()
export class PaymentReceivedHandler implements InboundHandler {
  readonly eventName = 'payment.received';

  constructor(
    private readonly contacts: ContactsService,
    private readonly invoices: InvoicesService,
  ) {}

  async handle({ manager, tenantId, payload }: InboundEventContext): Promise<Record<string, unknown>> {
    const email = requireEmail(payload, 'customer_email');
    const externalId = optionalString(payload, 'invoice_id');
    if (!externalId) throw new InvalidPayloadError('invoice_id is required: the id of the invoice in the payment system, e.g. in_1PQ2rS3tU4vW5xY6');
    const amount = payload.amount;
    if ((typeof amount !== 'number' && typeof amount !== 'string') || !(Number(amount) > 0)) {
      throw new InvalidPayloadError('amount is required and must be a number greater than 0, e.g. 49.00');
    }
    const currency = optionalString(payload, 'currency', 3) ?? 'USD';
    const { contact, action: contactAction } = await upsertContactByEmail(this.contacts, manager, tenantId, email, {}, { source: this.eventName });
    try {
      const { invoice, action } = await this.invoices.upsertPaidByExternalId(manager, tenantId, { externalId, amount, currency, contactId: contact.id });
      return { invoice_id: invoice.id, contact_id: contact.id, action, contact_action: contactAction };
    } catch (error) {
      // The invoice rules' own answers (bad amount or currency, a void invoice) are the payload's fault.
      if (error instanceof BadRequestException || error instanceof ConflictException) throw new InvalidPayloadError(error.message);
      throw error;
    }
  }
}
