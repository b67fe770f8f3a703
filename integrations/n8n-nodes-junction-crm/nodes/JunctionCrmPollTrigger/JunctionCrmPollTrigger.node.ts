import type { IDataObject, ILoadOptionsFunctions, INodeExecutionData, INodePropertyOptions, INodeType, INodeTypeDescription, IPollFunctions } from 'n8n-workflow';
import { NodeApiError, NodeConnectionTypes } from 'n8n-workflow';
import { crmRequest, normalizeBaseUrl, type CrmCredentials, CREDENTIAL_NAME } from '../shared/api';
import { checkFeedPage, FeedCursorError, isEnvelope, matchesEventPattern, pollFeed, type FeedEnvelope, type FeedState } from '../shared/feed';
import { JunctionCrmTrigger } from '../JunctionCrmTrigger/JunctionCrmTrigger.node';

/**
 * Polls the CRM's event feed (GET /api/events) on n8n's schedule, for an n8n the CRM cannot reach (behind a
 * firewall, on a laptop). Each poll emits the new matching events oldest first, each the same flat envelope
 * the webhook trigger outputs. The feed cursor lives in the node's static data.
 */
export class JunctionCrmPollTrigger implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'Junction CRM Poll Trigger',
    name: 'junctionCrmPollTrigger',
    icon: 'file:junctionCrm.svg',
    group: ['trigger'],
    version: 1,
    subtitle: '={{$parameter["event"]}}',
    description: 'Starts the workflow with the new Junction CRM events, polling the event feed (for an n8n the CRM cannot reach)',
    defaults: { name: 'Junction CRM Poll Trigger' },
    inputs: [],
    outputs: [NodeConnectionTypes.Main],
    credentials: [{ name: CREDENTIAL_NAME, required: true }],
    polling: true,
    properties: [
      {
        displayName: 'Event Name or ID',
        name: 'event',
        type: 'options',
        typeOptions: { loadOptionsMethod: 'getEvents' },
        required: true,
        default: '*',
        description:
          'The events that start the workflow: one event, or a pattern such as <code>deal.*</code> or <code>*</code>. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
      },
      {
        displayName: 'The first poll after activation starts at that moment: events from before it are not emitted.',
        name: 'notice',
        type: 'notice',
        default: '',
      },
    ],
  };

  methods = {
    loadOptions: {
      async getEvents(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
        return new JunctionCrmTrigger().methods.loadOptions.getEvents.call(this);
      },
    },
  };

  async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
    const event = this.getNodeParameter('event') as string;
    if (this.getMode() === 'manual') {
      const sample = await sampleEvent.call(this, event);
      return sample ? [this.helpers.returnJsonArray([sample as IDataObject])] : null;
    }
    const state = this.getWorkflowStaticData('node') as FeedState;
    const events = await pollFeed(state, event, (qs) => feedPage.call(this, qs));
    return events.length ? [this.helpers.returnJsonArray(events as IDataObject[])] : null;
  }
}

async function feedPage(this: IPollFunctions, qs: Record<string, string | number>) {
  try {
    const body = await crmRequest.call(this, { method: 'GET', path: '/events', qs });
    const credentials = (await this.getCredentials(CREDENTIAL_NAME)) as unknown as CrmCredentials;
    return checkFeedPage(body, `${normalizeBaseUrl(credentials.baseUrl)}/api/events`);
  } catch (error) {
    if (error instanceof NodeApiError) {
      const crm = (error.context?.crm ?? {}) as IDataObject;
      if (error.httpCode === '400' && crm.code === 'INVALID_CURSOR') throw new FeedCursorError(error.message);
      if (error.httpCode === '404') {
        error.description = 'This Junction CRM has no event feed (GET /api/events): use the Junction CRM Trigger (webhooks) with it';
      }
    }
    throw error;
  }
}

/**
 * What a manual run ("Fetch Test Event") outputs so fields can be mapped: the latest real matching event
 * the CRM delivered to some subscription, else the catalog's example for the event.
 */
async function sampleEvent(this: IPollFunctions, event: string): Promise<FeedEnvelope | null> {
  const exact = !event.includes('*');
  const deliveries = (await crmRequest.call(this, { method: 'GET', path: '/webhooks/deliveries', qs: exact ? { limit: 20, event_name: event } : { limit: 20 } })) as {
    data?: Array<{ id: string; event_name: string }>;
  };
  const delivery = (deliveries.data ?? []).find((item) => matchesEventPattern(event, item.event_name) && item.event_name !== 'webhook.test');
  if (delivery) {
    const detail = (await crmRequest.call(this, { method: 'GET', path: `/webhooks/deliveries/${delivery.id}` })) as { payload?: unknown };
    if (isEnvelope(detail.payload)) return detail.payload;
  }
  const catalog = (await crmRequest.call(this, { method: 'GET', path: '/webhooks/event-types' })) as { data: Array<{ name: string; example?: unknown }> };
  const example = catalog.data.find((type) => matchesEventPattern(event, type.name) && type.name !== 'webhook.test')?.example;
  return isEnvelope(example) ? example : null;
}
