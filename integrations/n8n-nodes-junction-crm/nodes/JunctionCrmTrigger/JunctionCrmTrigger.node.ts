import type {
  IDataObject,
  IHookFunctions,
  ILoadOptionsFunctions,
  INodePropertyOptions,
  INodeType,
  INodeTypeDescription,
  IWebhookFunctions,
  IWebhookResponseData,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';
import { crmRequest } from '../shared/api';
import { parseFilter, sameFilter, subscriptionDescription, targetMatches } from '../shared/subscription';
import { verifyDelivery, type HeaderBag } from '../shared/signature';

/** What the trigger keeps in the workflow's static data (per node) between activation and deactivation. */
interface SubscriptionState extends IDataObject {
  subscriptionId?: string;
  secret?: string;
  eventName?: string;
  targetUrl?: string;
}

/**
 * Secrets fetched from the CRM when the ones in static data do not verify a delivery (rotated in the CRM, or
 * not saved yet: n8n 2.x registers the webhook before create() has stored them), per webhook URL, so a burst
 * of requests asks the CRM once a second at most.
 */
const refreshed = new Map<string, { at: number; secrets: string[] }>();
const REFRESH_INTERVAL_MS = 1_000;

export class JunctionCrmTrigger implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'Junction CRM Trigger',
    name: 'junctionCrmTrigger',
    icon: 'file:junctionCrm.svg',
    group: ['trigger'],
    version: 1,
    subtitle: '={{$parameter["event"]}}',
    description: 'Starts the workflow when Junction CRM sends an event (contact created, deal won, invoice paid, …)',
    defaults: { name: 'Junction CRM Trigger' },
    inputs: [],
    outputs: [NodeConnectionTypes.Main],
    credentials: [{ name: 'junctionCrmApi', required: true }],
    webhooks: [
      {
        name: 'default',
        httpMethod: 'POST',
        responseMode: 'onReceived',
        path: 'webhook',
      },
    ],
    properties: [
      {
        displayName: 'Event Name or ID',
        name: 'event',
        type: 'options',
        typeOptions: { loadOptionsMethod: 'getEvents' },
        required: true,
        default: 'contact.created',
        description:
          'The event that starts the workflow: one event, or a pattern such as <code>deal.*</code> or <code>*</code>. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
      },
      {
        displayName: 'Filter',
        name: 'filter',
        type: 'json',
        default: '',
        placeholder: '{"stage": "won"}',
        description:
          'Only events whose body contains this JSON object start the workflow, e.g. <code>{"stage": "won"}</code> for won deals. The CRM applies it, so other events are not even sent. Leave empty for every event.',
      },
      {
        displayName: 'Options',
        name: 'options',
        type: 'collection',
        placeholder: 'Add option',
        default: {},
        options: [
          {
            displayName: 'Include Delivery Headers',
            name: 'includeHeaders',
            type: 'boolean',
            default: false,
            description:
              'Whether to add the delivery’s HTTP headers (webhook-id, webhook-timestamp, x-webhook-event, …) to the item under <code>headers</code>',
          },
        ],
      },
    ],
  };

  methods = {
    loadOptions: {
      /** Every catalog event (GET /api/webhooks/event-types) and the patterns contact.*, deal.*, invoice.*, *. */
      async getEvents(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
        const response = (await crmRequest.call(this, { method: 'GET', path: '/webhooks/event-types' })) as {
          data: Array<{ name: string; description?: string }>;
          subscribable: string[];
        };
        const descriptions = new Map(response.data.map((event) => [event.name, event.description]));
        return response.subscribable.map((name) => ({
          name: name === '*' ? '* (every event)' : name,
          value: name,
          description: descriptions.get(name) ?? (name.endsWith('.*') ? `Every ${name.slice(0, -2)} event` : undefined),
        }));
      },
    },
  };

  webhookMethods = {
    default: {
      /** True when the subscription kept in static data still exists, for this event, pointing at this node's URL. */
      async checkExists(this: IHookFunctions): Promise<boolean> {
        const state = this.getWorkflowStaticData('node') as SubscriptionState;
        if (!state.subscriptionId) return false;
        const webhookUrl = this.getNodeWebhookUrl('default') as string;
        const event = this.getNodeParameter('event') as string;
        let subscription: IDataObject;
        try {
          subscription = (await crmRequest.call(this, { method: 'GET', path: `/webhooks/subscriptions/${state.subscriptionId}` })) as IDataObject;
        } catch (error) {
          if (String((error as { httpCode?: string }).httpCode) === '404') {
            clear(state);
            return false;
          }
          throw error;
        }
        const sameTarget = targetMatches(String(subscription.target_url), webhookUrl);
        if (!sameTarget || subscription.event_name !== event) {
          // Ours, but for another event or an old URL of this node: remove it, create() subscribes anew.
          await deleteSubscription.call(this, state.subscriptionId);
          clear(state);
          return false;
        }
        // Another filter: create() registers the same event and URL again, which applies it.
        if (!sameFilter(subscription.filter, filterParameter.call(this))) return false;
        // A disabled subscription, or one whose secret we lost, is registered again (which re-enables it).
        return subscription.enabled === true && !!state.secret;
      },

      /** Subscribes this node's URL; registering the same event and URL again returns the existing subscription. */
      async create(this: IHookFunctions): Promise<boolean> {
        const state = this.getWorkflowStaticData('node') as SubscriptionState;
        const webhookUrl = this.getNodeWebhookUrl('default') as string;
        const event = this.getNodeParameter('event') as string;
        let subscription = (await crmRequest.call(this, {
          method: 'POST',
          path: '/webhooks/subscriptions',
          body: {
            event_name: event,
            target_url: webhookUrl,
            enabled: true,
            filter: filterParameter.call(this),
            description: subscriptionDescription(this.getWorkflow().name, this.getNode().name),
          },
        })) as IDataObject & { id: string; secret: string; enabled: boolean };
        if (subscription.enabled === false) {
          // Someone disabled it by hand; an active workflow wants its events.
          const enabled = (await crmRequest.call(this, { method: 'PATCH', path: `/webhooks/subscriptions/${subscription.id}`, body: { enabled: true } })) as IDataObject;
          subscription = { ...subscription, ...enabled };
        }
        state.subscriptionId = subscription.id;
        state.secret = subscription.secret;
        state.eventName = event;
        state.targetUrl = webhookUrl;
        return true;
      },

      /**
       * Removes the subscription when the workflow is deactivated (a subscription already gone counts as
       * removed). Without an id in static data, removes those whose target is this node's URL: it holds the
       * node's own webhook id, so no other workflow's subscription can have it.
       */
      async delete(this: IHookFunctions): Promise<boolean> {
        const state = this.getWorkflowStaticData('node') as SubscriptionState;
        try {
          const ids = state.subscriptionId ? [state.subscriptionId] : await subscriptionsForUrl.call(this, this.getNodeWebhookUrl('default') as string);
          for (const id of ids) await deleteSubscription.call(this, id);
        } catch {
          return false;
        }
        clear(state);
        return true;
      },
    },
  };

  async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
    const request = this.getRequestObject() as unknown as { rawBody?: Buffer; body?: unknown };
    const headers = this.getHeaderData() as HeaderBag;
    const state = this.getWorkflowStaticData('node') as SubscriptionState;
    // n8n keeps the bytes received as req.rawBody; the CRM's body is compact JSON.stringify output, so
    // re-serialising the parsed body gives the same bytes where an older n8n does not keep them.
    const rawBody = Buffer.isBuffer(request.rawBody) ? request.rawBody : Buffer.from(JSON.stringify(this.getBodyData() ?? {}), 'utf8');

    let result = verifyDelivery({ secrets: [state.secret], headers, rawBody });
    if (!result.valid && (result.reason === 'bad-signature' || result.reason === 'no-secret')) {
      // The secret may have been rotated in the CRM (the old one signs for 24 h only), or not be saved yet.
      const secrets = await currentSecrets.call(this, state);
      if (secrets.length) result = verifyDelivery({ secrets, headers, rawBody });
    }
    if (!result.valid) {
      this.logger.warn(`Junction CRM Trigger refused a delivery: ${result.message}`);
      const response = this.getResponseObject();
      response.status(401).json({ message: `Unauthorized: ${result.message}` });
      return { noWebhookResponse: true };
    }

    const payload = this.getBodyData() as IDataObject;
    const options = this.getNodeParameter('options', {}) as { includeHeaders?: boolean };
    const json: IDataObject = options.includeHeaders ? { ...payload, headers: headers as IDataObject } : payload;
    return { workflowData: [this.helpers.returnJsonArray([json])] };
  }
}

/** The Filter parameter as the subscription's filter (null when empty: re-registering then removes a previous one). */
function filterParameter(this: IHookFunctions): IDataObject | null {
  try {
    return parseFilter(this.getNodeParameter('filter', '')) as IDataObject | null;
  } catch (error) {
    throw new NodeOperationError(this.getNode(), (error as Error).message);
  }
}

function clear(state: SubscriptionState): void {
  delete state.subscriptionId;
  delete state.secret;
  delete state.eventName;
  delete state.targetUrl;
}

/** The ids of the subscriptions whose target is `webhookUrl`. */
async function subscriptionsForUrl(this: IHookFunctions | IWebhookFunctions, webhookUrl: string): Promise<string[]> {
  const page = (await crmRequest.call(this, { method: 'GET', path: '/webhooks/subscriptions', qs: { target_url: webhookUrl, limit: 200 } })) as {
    data: Array<{ id: string; target_url: string }>;
  };
  return page.data.filter((subscription) => targetMatches(subscription.target_url, webhookUrl)).map((subscription) => subscription.id);
}

async function deleteSubscription(this: IHookFunctions, id: string): Promise<void> {
  try {
    await crmRequest.call(this, { method: 'DELETE', path: `/webhooks/subscriptions/${id}` });
  } catch (error) {
    if (String((error as { httpCode?: string }).httpCode) !== '404') throw error;
  }
}

/** The secrets of this node's subscriptions as the CRM has them now: the one in static data, else those whose target is this node's URL. */
async function currentSecrets(this: IWebhookFunctions, state: SubscriptionState): Promise<string[]> {
  const webhookUrl = this.getNodeWebhookUrl('default') as string;
  const cached = refreshed.get(webhookUrl);
  if (cached && Date.now() - cached.at < REFRESH_INTERVAL_MS) return cached.secrets;
  const secrets: string[] = [];
  try {
    const ids = state.subscriptionId ? [state.subscriptionId] : await subscriptionsForUrl.call(this, webhookUrl);
    for (const id of ids) {
      const response = (await crmRequest.call(this, { method: 'GET', path: `/webhooks/subscriptions/${id}/secret` })) as IDataObject;
      for (const secret of [response.secret, response.previous_secret]) if (typeof secret === 'string' && secret) secrets.push(secret);
    }
  } catch (error) {
    this.logger.warn(`Junction CRM Trigger could not fetch its subscription's secret: ${(error as Error).message}`);
  }
  refreshed.set(webhookUrl, { at: Date.now(), secrets });
  return secrets;
}
