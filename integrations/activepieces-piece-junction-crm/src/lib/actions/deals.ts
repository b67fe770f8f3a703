import { Property, createAction } from '@activepieces/pieces-framework';
import { junctionCrmAuth } from '../auth';
import { crmConnection, crmRequest, definedFields } from '../client';
import { DEAL_STAGES } from '../samples';

const stageOptions = { options: DEAL_STAGES.map((stage) => ({ label: stage, value: stage })) };

/** A money value as the CRM takes it: a number, or a numeric string kept as written ("1200.50"). */
const money = (value: unknown): unknown => (typeof value === 'string' ? value.trim() : value);

export const createDeal = createAction({
  auth: junctionCrmAuth,
  name: 'create_deal',
  displayName: 'Create Deal',
  description: 'Creates a deal (the CRM then sends deal.created).',
  props: {
    title: Property.ShortText({ displayName: 'Title', required: true }),
    value: Property.ShortText({ displayName: 'Value', description: 'A number ≥ 0 with at most 2 decimals, e.g. 12000 or 1200.50; 0 when empty', required: false }),
    currency: Property.ShortText({ displayName: 'Currency', description: 'ISO 4217 code such as USD or EUR; USD when empty', required: false }),
    stage: Property.StaticDropdown<string, false>({ displayName: 'Stage', description: 'lead when empty', required: false, options: stageOptions }),
    contact_id: Property.ShortText({ displayName: 'Contact ID', description: 'The contact the deal belongs to', required: false }),
  },
  async run(context) {
    const { value, ...rest } = context.propsValue;
    const { body } = await crmRequest(crmConnection(context.auth), {
      method: 'POST',
      path: '/api/deals',
      body: definedFields({ ...rest, value: money(value) }),
    });
    return body;
  },
});

export const updateDeal = createAction({
  auth: junctionCrmAuth,
  name: 'update_deal',
  displayName: 'Update Deal',
  description: 'Moves a deal to another stage and/or changes its fields; empty fields stay as they are. A stage change sends deal.stage_changed.',
  props: {
    deal_id: Property.ShortText({ displayName: 'Deal ID', description: 'The deal’s id (deal_id in CRM events)', required: true }),
    stage: Property.StaticDropdown<string, false>({ displayName: 'Stage', required: false, options: stageOptions }),
    title: Property.ShortText({ displayName: 'Title', required: false }),
    value: Property.ShortText({ displayName: 'Value', description: 'A number ≥ 0 with at most 2 decimals', required: false }),
    currency: Property.ShortText({ displayName: 'Currency', required: false }),
    contact_id: Property.ShortText({ displayName: 'Contact ID', required: false }),
  },
  async run(context) {
    const { deal_id, value, ...rest } = context.propsValue;
    const changes = definedFields({ ...rest, value: money(value) });
    if (Object.keys(changes).length === 0) throw new Error('Update Deal has nothing to change: choose a Stage or fill in a field.');
    const { body } = await crmRequest(crmConnection(context.auth), { method: 'PATCH', path: `/api/deals/${encodeURIComponent(deal_id.trim())}`, body: changes });
    return body;
  },
});
