import type { INodeProperties } from 'n8n-workflow';
import { contactIdField, currencyField, DEAL_STAGES, idField, listFields, optionsOf, show } from './fields';

const stageField: INodeProperties = { displayName: 'Stage', name: 'stage', type: 'options', options: optionsOf(DEAL_STAGES), default: 'lead' };
const valueField: INodeProperties = {
  displayName: 'Value',
  name: 'value',
  type: 'string',
  default: '',
  placeholder: '12000.00',
  description: 'A number ≥ 0 with at most 2 decimals',
};
const dealContact = contactIdField('The contact the deal belongs to (empty for none)');

export const dealOperations: INodeProperties = {
  displayName: 'Operation',
  name: 'operation',
  type: 'options',
  noDataExpression: true,
  displayOptions: { show: { resource: ['deal'] } },
  options: [
    { name: 'Create', value: 'create', description: 'Create a deal', action: 'Create a deal' },
    { name: 'Delete', value: 'delete', description: 'Delete a deal', action: 'Delete a deal' },
    { name: 'Get', value: 'get', description: 'Get a deal', action: 'Get a deal' },
    { name: 'Get Many', value: 'getAll', description: 'List deals', action: 'Get many deals' },
    { name: 'Update', value: 'update', description: 'Update a deal, e.g. move it to another stage', action: 'Update a deal' },
  ],
  default: 'create',
};

export const dealFieldsDescription: INodeProperties[] = [
  {
    displayName: 'Title',
    name: 'title',
    type: 'string',
    required: true,
    default: '',
    placeholder: 'Acme annual plan',
    displayOptions: show('deal', ['create']),
  },
  {
    displayName: 'Additional Fields',
    name: 'additionalFields',
    type: 'collection',
    placeholder: 'Add Field',
    default: {},
    displayOptions: show('deal', ['create']),
    options: [dealContact, currencyField, stageField, valueField],
  },
  idField('deal', 'Deal', ['get', 'update', 'delete']),
  {
    displayName: 'Update Fields',
    name: 'updateFields',
    type: 'collection',
    placeholder: 'Add Field',
    default: {},
    displayOptions: show('deal', ['update']),
    options: [dealContact, currencyField, stageField, { displayName: 'Title', name: 'title', type: 'string', default: '' }, valueField],
  },
  ...listFields('deal'),
  {
    displayName: 'Filters',
    name: 'filters',
    type: 'collection',
    placeholder: 'Add Filter',
    default: {},
    displayOptions: show('deal', ['getAll']),
    options: [contactIdField('Only deals of this contact'), { ...stageField, description: 'Only deals in this stage' }],
  },
];
