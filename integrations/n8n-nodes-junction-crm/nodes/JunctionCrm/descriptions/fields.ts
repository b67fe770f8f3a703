import type { INodeProperties } from 'n8n-workflow';

/** Shared parameter builders for the resources' operations. */

export const DEAL_STAGES = ['lead', 'qualified', 'proposal', 'negotiation', 'won', 'lost'] as const;
export const INVOICE_STATUSES = ['open', 'paid', 'void'] as const;

export const optionsOf = (values: readonly string[]) => values.map((value) => ({ name: value.charAt(0).toUpperCase() + value.slice(1), value }));

export function show(resource: string, operation: string[]): INodeProperties['displayOptions'] {
  return { show: { resource: [resource], operation } };
}

export function idField(resource: string, label: string, operations: string[]): INodeProperties {
  return {
    displayName: `${label} ID`,
    name: `${resource}Id`,
    type: 'string',
    required: true,
    default: '',
    placeholder: '550e8400-e29b-41d4-a716-446655440000',
    description: `The ${label.toLowerCase()}'s ID (a UUID)`,
    displayOptions: show(resource, operations),
  };
}

/** Return All + Limit for a cursor-paged list. */
export function listFields(resource: string): INodeProperties[] {
  return [
    {
      displayName: 'Return All',
      name: 'returnAll',
      type: 'boolean',
      default: false,
      description: 'Whether to return all results or only up to a given limit (every page of the cursor is read)',
      displayOptions: show(resource, ['getAll']),
    },
    {
      displayName: 'Limit',
      name: 'limit',
      type: 'number',
      typeOptions: { minValue: 1 },
      default: 50,
      description: 'Max number of results to return',
      displayOptions: { show: { resource: [resource], operation: ['getAll'], returnAll: [false] } },
    },
  ];
}

export const customFieldsField: INodeProperties = {
  displayName: 'Custom Fields (JSON)',
  name: 'custom_fields',
  type: 'json',
  default: '{}',
  description: 'A JSON object; it replaces the contact’s custom fields',
};

export const contactIdField = (description: string): INodeProperties => ({
  displayName: 'Contact ID',
  name: 'contact_id',
  type: 'string',
  default: '',
  description,
});

export const currencyField: INodeProperties = {
  displayName: 'Currency',
  name: 'currency',
  type: 'string',
  default: 'USD',
  description: 'ISO 4217 code such as USD or EUR',
};
