import type { INodeProperties } from 'n8n-workflow';
import { customFieldsField, idField, listFields, show } from './fields';

const contactFields: INodeProperties[] = [
  { displayName: 'First Name', name: 'first_name', type: 'string', default: '' },
  { displayName: 'Last Name', name: 'last_name', type: 'string', default: '' },
  { displayName: 'Phone', name: 'phone', type: 'string', default: '' },
  { displayName: 'Company', name: 'company', type: 'string', default: '' },
  { displayName: 'Source', name: 'source', type: 'string', default: '', placeholder: 'website_form' },
  customFieldsField,
];

export const contactOperations: INodeProperties = {
  displayName: 'Operation',
  name: 'operation',
  type: 'options',
  noDataExpression: true,
  displayOptions: { show: { resource: ['contact'] } },
  options: [
    { name: 'Create', value: 'create', description: 'Create a contact', action: 'Create a contact' },
    { name: 'Create or Update', value: 'upsert', description: 'Create a contact, or update the one with this email', action: 'Create or update a contact by email' },
    { name: 'Delete', value: 'delete', description: 'Delete a contact', action: 'Delete a contact' },
    { name: 'Get', value: 'get', description: 'Get a contact', action: 'Get a contact' },
    { name: 'Get Many', value: 'getAll', description: 'List or search contacts', action: 'Get many contacts' },
    { name: 'Update', value: 'update', description: 'Update a contact', action: 'Update a contact' },
  ],
  default: 'create',
};

export const contactFieldsDescription: INodeProperties[] = [
  {
    displayName: 'Email',
    name: 'email',
    type: 'string',
    placeholder: 'name@email.com',
    default: '',
    description: 'Unique in your tenant, whatever its case',
    displayOptions: show('contact', ['create']),
  },
  {
    displayName: 'Email',
    name: 'email',
    type: 'string',
    placeholder: 'name@email.com',
    required: true,
    default: '',
    description: 'The contact with this email (case-insensitive) is updated; without one, a contact is created',
    displayOptions: show('contact', ['upsert']),
  },
  {
    displayName: 'Additional Fields',
    name: 'additionalFields',
    type: 'collection',
    placeholder: 'Add Field',
    default: {},
    displayOptions: show('contact', ['create', 'upsert']),
    options: contactFields,
  },
  idField('contact', 'Contact', ['get', 'update', 'delete']),
  {
    displayName: 'Update Fields',
    name: 'updateFields',
    type: 'collection',
    placeholder: 'Add Field',
    default: {},
    displayOptions: show('contact', ['update']),
    options: [{ displayName: 'Email', name: 'email', type: 'string', placeholder: 'name@email.com', default: '' }, ...contactFields],
  },
  ...listFields('contact'),
  {
    displayName: 'Filters',
    name: 'filters',
    type: 'collection',
    placeholder: 'Add Filter',
    default: {},
    displayOptions: show('contact', ['getAll']),
    options: [
      { displayName: 'Search', name: 'q', type: 'string', default: '', description: 'Part of the first or last name, email or company (case-insensitive)' },
      { displayName: 'Email', name: 'email', type: 'string', placeholder: 'name@email.com', default: '', description: 'The exact email (case-insensitive)' },
    ],
  },
];
