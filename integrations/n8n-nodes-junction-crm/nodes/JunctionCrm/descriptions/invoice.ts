import type { INodeProperties } from 'n8n-workflow';
import { contactIdField, currencyField, idField, INVOICE_STATUSES, listFields, optionsOf, show } from './fields';

const statusField: INodeProperties = {
  displayName: 'Status',
  name: 'status',
  type: 'options',
  options: optionsOf(INVOICE_STATUSES),
  default: 'open',
  description: 'Paid sets Paid At to now unless given; a void invoice stays void',
};
const amountField: INodeProperties = { displayName: 'Amount', name: 'amount', type: 'string', default: '', placeholder: '49.00', description: 'A number > 0 with at most 2 decimals' };
const paidAtField: INodeProperties = {
  displayName: 'Paid At',
  name: 'paid_at',
  type: 'string',
  default: '',
  placeholder: '2026-01-15T10:30:00Z',
  description: 'An ISO-8601 date-time with a time zone',
};
const externalIdField: INodeProperties = {
  displayName: 'External ID',
  name: 'external_id',
  type: 'string',
  default: '',
  placeholder: 'in_1PQ2rS3tU4vW5xY6',
  description: 'The invoice’s ID in the system it came from (unique in your tenant)',
};
const invoiceContact = contactIdField('The contact the invoice belongs to (empty for none)');

export const invoiceOperations: INodeProperties = {
  displayName: 'Operation',
  name: 'operation',
  type: 'options',
  noDataExpression: true,
  displayOptions: { show: { resource: ['invoice'] } },
  options: [
    { name: 'Create', value: 'create', description: 'Create an invoice', action: 'Create an invoice' },
    { name: 'Get', value: 'get', description: 'Get an invoice', action: 'Get an invoice' },
    { name: 'Get Many', value: 'getAll', description: 'List invoices', action: 'Get many invoices' },
    { name: 'Mark as Paid', value: 'markPaid', description: 'Mark an invoice paid', action: 'Mark an invoice as paid' },
    { name: 'Update', value: 'update', description: 'Update an invoice', action: 'Update an invoice' },
  ],
  default: 'create',
};

export const invoiceFieldsDescription: INodeProperties[] = [
  {
    displayName: 'Number',
    name: 'number',
    type: 'string',
    required: true,
    default: '',
    placeholder: 'INV-2026-0042',
    description: 'Unique in your tenant',
    displayOptions: show('invoice', ['create']),
  },
  { ...amountField, required: true, displayOptions: show('invoice', ['create']) },
  {
    displayName: 'Additional Fields',
    name: 'additionalFields',
    type: 'collection',
    placeholder: 'Add Field',
    default: {},
    displayOptions: show('invoice', ['create']),
    options: [invoiceContact, currencyField, externalIdField, paidAtField, statusField],
  },
  idField('invoice', 'Invoice', ['get', 'update', 'markPaid']),
  {
    displayName: 'Update Fields',
    name: 'updateFields',
    type: 'collection',
    placeholder: 'Add Field',
    default: {},
    displayOptions: show('invoice', ['update']),
    options: [
      amountField,
      invoiceContact,
      currencyField,
      externalIdField,
      { displayName: 'Number', name: 'number', type: 'string', default: '' },
      paidAtField,
      statusField,
    ],
  },
  {
    displayName: 'Options',
    name: 'options',
    type: 'collection',
    placeholder: 'Add Option',
    default: {},
    displayOptions: show('invoice', ['markPaid']),
    options: [{ ...paidAtField, description: 'When it was paid (default: now)' }],
  },
  ...listFields('invoice'),
  {
    displayName: 'Filters',
    name: 'filters',
    type: 'collection',
    placeholder: 'Add Filter',
    default: {},
    displayOptions: show('invoice', ['getAll']),
    options: [
      contactIdField('Only invoices of this contact'),
      { ...externalIdField, description: 'The invoice with this external ID' },
      { ...statusField, description: 'Only invoices with this status' },
    ],
  },
];
