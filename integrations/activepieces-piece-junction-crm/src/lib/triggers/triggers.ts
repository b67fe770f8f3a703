import { Property, TriggerStrategy, createTrigger } from '@activepieces/pieces-framework';
import { crmConnection, crmRequest } from '../client';
import { junctionCrmAuth } from '../auth';
import { DEAL_STAGES, SAMPLES } from '../samples';
import { feedSampleEvents, pollFeed, startFeed, stopFeed } from './feed';
import { disableSubscription, enableSubscription, sampleEvents, verifiedDelivery } from './subscription';

/** The Event dropdown: the CRM's catalog plus the patterns, from GET /api/webhooks/event-types. */
function eventProperty() {
  return Property.Dropdown<string, true, typeof junctionCrmAuth>({
    auth: junctionCrmAuth,
    displayName: 'Event',
    description: 'A CRM event, or a pattern: contact.* (every contact event), * (every event)',
    required: true,
    refreshers: [],
    options: async ({ auth }) => {
      if (!auth) return { disabled: true, placeholder: 'Connect your Junction CRM first', options: [] };
      try {
        const { body } = await crmRequest<{ data: Array<{ name: string; description: string }>; subscribable: string[] }>(crmConnection(auth), {
          method: 'GET',
          path: '/api/webhooks/event-types',
        });
        const described = new Map(body.data.map((type) => [type.name, type.description]));
        const subscribable = body.subscribable ?? body.data.map((type) => type.name);
        return {
          disabled: false,
          options: subscribable.map((name) => ({
            label: described.has(name) ? `${name}: ${described.get(name)}` : name === '*' ? '* (every event)' : `${name} (every ${name.slice(0, -2)} event)`,
            value: name,
          })),
        };
      } catch (error) {
        return { disabled: true, placeholder: (error as Error).message, options: [] };
      }
    },
  });
}

const HOW = 'Subscribes itself in the CRM when the flow is published and unsubscribes when it is turned off; each delivery’s signature is checked.';

export const crmEvent = createTrigger({
  auth: junctionCrmAuth,
  name: 'crm_event',
  displayName: 'CRM Event',
  description: `Any CRM event, or a pattern such as contact.* or *. ${HOW}`,
  type: TriggerStrategy.WEBHOOK,
  props: {
    event: eventProperty(),
  },
  sampleData: SAMPLES['contact.created'],
  async onEnable(context) {
    await enableSubscription(context, context.propsValue.event, `CRM Event ${context.propsValue.event}`);
  },
  async onDisable(context) {
    await disableSubscription(context);
  },
  async run(context) {
    const event = await verifiedDelivery(context, context.propsValue.event);
    return event ? [event] : [];
  },
  async test(context) {
    return sampleEvents(context, context.propsValue.event, SAMPLES['contact.created']);
  },
});

export const crmEventPolling = createTrigger({
  auth: junctionCrmAuth,
  name: 'crm_event_polling',
  displayName: 'CRM Event (polling)',
  description:
    'Any CRM event, or a pattern such as contact.* or *, fetched from the CRM’s event feed (GET /api/events) on Activepieces’ polling schedule. ' +
    'For an Activepieces the CRM cannot reach (behind a firewall, on a private address): nothing is subscribed, Activepieces calls the CRM. ' +
    'Each event comes once, oldest first, from the moment the flow is turned on.',
  type: TriggerStrategy.POLLING,
  props: {
    event: eventProperty(),
  },
  sampleData: SAMPLES['contact.created'],
  async onEnable(context) {
    await startFeed(context, context.propsValue.event);
  },
  async onDisable(context) {
    await stopFeed(context);
  },
  async run(context) {
    return pollFeed(context, context.propsValue.event);
  },
  async test(context) {
    return feedSampleEvents(context, context.propsValue.event, SAMPLES['contact.created']);
  },
});

export const newContact = createTrigger({
  auth: junctionCrmAuth,
  name: 'new_contact',
  displayName: 'New Contact',
  description: `A contact was created (contact.created), through the API or an inbound lead. ${HOW}`,
  type: TriggerStrategy.WEBHOOK,
  props: {},
  sampleData: SAMPLES['contact.created'],
  async onEnable(context) {
    await enableSubscription(context, 'contact.created', 'New Contact');
  },
  async onDisable(context) {
    await disableSubscription(context);
  },
  async run(context) {
    const event = await verifiedDelivery(context, 'contact.created');
    return event ? [event] : [];
  },
  async test(context) {
    return sampleEvents(context, 'contact.created', SAMPLES['contact.created']);
  },
});

export const updatedContact = createTrigger({
  auth: junctionCrmAuth,
  name: 'updated_contact',
  displayName: 'Updated Contact',
  description: `A contact changed (contact.updated); \`changes\` lists each changed field with its old and new value. ${HOW}`,
  type: TriggerStrategy.WEBHOOK,
  props: {},
  sampleData: SAMPLES['contact.updated'],
  async onEnable(context) {
    await enableSubscription(context, 'contact.updated', 'Updated Contact');
  },
  async onDisable(context) {
    await disableSubscription(context);
  },
  async run(context) {
    const event = await verifiedDelivery(context, 'contact.updated');
    return event ? [event] : [];
  },
  async test(context) {
    return sampleEvents(context, 'contact.updated', SAMPLES['contact.updated']);
  },
});

export const dealStageChanged = createTrigger({
  auth: junctionCrmAuth,
  name: 'deal_stage_changed',
  displayName: 'Deal Stage Changed',
  description: `A deal moved to another stage (deal.stage_changed): \`stage\` is the new one, \`previous_stage\` the old one. ${HOW}`,
  type: TriggerStrategy.WEBHOOK,
  props: {
    stage: Property.StaticDropdown<string, false>({
      displayName: 'Only to stage',
      description: 'Run only when the deal moves to this stage (e.g. won); empty for every stage change',
      required: false,
      options: { options: DEAL_STAGES.map((stage) => ({ label: stage, value: stage })) },
    }),
  },
  sampleData: SAMPLES['deal.stage_changed'],
  async onEnable(context) {
    const stage = context.propsValue.stage;
    // The CRM filters (no delivery for other stages); null clears the filter of an earlier activation.
    await enableSubscription(context, 'deal.stage_changed', `Deal Stage Changed${stage ? ` to ${stage}` : ''}`, { filter: stage ? { stage } : null });
  },
  async onDisable(context) {
    await disableSubscription(context);
  },
  async run(context) {
    const event = await verifiedDelivery(context, 'deal.stage_changed');
    // A safety net for a subscription made before the piece set the filter.
    const stage = context.propsValue.stage;
    return event && (!stage || event['stage'] === stage) ? [event] : [];
  },
  async test(context) {
    const stage = context.propsValue.stage;
    const sample = stage ? { ...SAMPLES['deal.stage_changed'], stage } : SAMPLES['deal.stage_changed'];
    return sampleEvents(context, 'deal.stage_changed', sample, (event) => !stage || event['stage'] === stage);
  },
});

export const invoicePaid = createTrigger({
  auth: junctionCrmAuth,
  name: 'invoice_paid',
  displayName: 'Invoice Paid',
  description: `An invoice was marked paid (invoice.paid), through the API or a payment.received inbound event. ${HOW}`,
  type: TriggerStrategy.WEBHOOK,
  props: {},
  sampleData: SAMPLES['invoice.paid'],
  async onEnable(context) {
    await enableSubscription(context, 'invoice.paid', 'Invoice Paid');
  },
  async onDisable(context) {
    await disableSubscription(context);
  },
  async run(context) {
    const event = await verifiedDelivery(context, 'invoice.paid');
    return event ? [event] : [];
  },
  async test(context) {
    return sampleEvents(context, 'invoice.paid', SAMPLES['invoice.paid']);
  },
});

export const triggers = [crmEvent, crmEventPolling, newContact, updatedContact, dealStageChanged, invoicePaid];
