import type { Store } from '@activepieces/pieces-framework';
import { CrmApiError, crmConnection, crmRequest } from '../client';
import { rawBodyBytes, verifyStandardWebhook } from '../signature';

/** What onEnable keeps in the flow's store: the CRM subscription and its signing secret. */
export interface StoredSubscription {
  id: string;
  secret: string;
  event_name: string;
  target_url: string;
  /** The containment filter the subscription was given (null: every event); absent for triggers that set none. */
  filter?: Record<string, unknown> | null;
}

export const SUBSCRIPTION_STORE_KEY = 'junction_crm_subscription';

/** The parts of a webhook trigger's hook context these helpers use (TriggerHookContext has them all). */
export interface HookContext {
  auth: unknown;
  webhookUrl: string;
  store: Store;
  flows?: { current?: { id?: string } };
}

/** What the sample-data helpers need: only the connection. */
export interface AuthOnlyContext {
  auth: unknown;
}

export interface RunContext extends HookContext {
  payload: { body: unknown; rawBody?: unknown; headers: Record<string, string> };
}

export type CrmEventPayload = Record<string, unknown> & { event_id: string; event_name: string };

/** `contact.created` matches itself, `contact.*` and `*`. webhook.test (sent only on request) matches nothing. */
export function matchesEventPattern(pattern: string, eventName: string): boolean {
  if (eventName === 'webhook.test') return false;
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return eventName.startsWith(pattern.slice(0, -1));
  return pattern === eventName;
}

interface SubscriptionWithSecret {
  id: string;
  event_name: string;
  target_url: string;
  enabled: boolean;
  secret: string;
}

export interface EnableOptions {
  /**
   * The subscription's `filter`, matched by the CRM against each delivery body (`{"stage": "won"}`), so events
   * that do not match make no delivery at all. null removes a filter an earlier activation set; undefined
   * leaves the field out of the request.
   */
  filter?: Record<string, unknown> | null;
}

/**
 * Subscribes the flow's webhook URL to `eventName` and keeps the subscription's id and secret in the store.
 * The CRM answers a repeat of the same event_name + target_url with the existing subscription (200) after
 * applying the request's description, filter and enabled, so enabling a flow again never makes a twin and
 * a changed filter takes effect.
 */
export async function enableSubscription(context: HookContext, eventName: string, label: string, options: EnableOptions = {}): Promise<StoredSubscription> {
  const connection = crmConnection(context.auth);
  const previous = await context.store.get<StoredSubscription>(SUBSCRIPTION_STORE_KEY);
  if (previous && (previous.event_name !== eventName || previous.target_url !== context.webhookUrl)) {
    // The flow now listens to something else: drop what the last version subscribed.
    await deleteSubscription(context, previous.id);
  }
  const flowId = context.flows?.current?.id;
  let created;
  try {
    created = await crmRequest<SubscriptionWithSecret>(connection, {
      method: 'POST',
      path: '/api/webhooks/subscriptions',
      body: {
        event_name: eventName,
        target_url: context.webhookUrl,
        enabled: true,
        description: `Activepieces: ${label}${flowId ? ` (flow ${flowId})` : ''}`,
        ...(options.filter !== undefined ? { filter: options.filter } : {}),
      },
    });
  } catch (error) {
    if (error instanceof CrmApiError && error.status === 403) {
      throw new Error(`${error.message}. Subscribing webhooks needs the API token of an admin of the tenant: create the token as an admin and update the connection.`);
    }
    throw error;
  }
  const subscription = created.body;
  if (!subscription?.id || !subscription.secret) throw new Error('Junction CRM did not return the subscription with its secret; is the CRM URL right?');
  if (!subscription.enabled) {
    // A CRM that keeps a disabled twin's state on re-registration: switch it on.
    await crmRequest(connection, { method: 'PATCH', path: `/api/webhooks/subscriptions/${subscription.id}`, body: { enabled: true } });
  }
  const stored: StoredSubscription = { id: subscription.id, secret: subscription.secret, event_name: eventName, target_url: context.webhookUrl };
  if (options.filter !== undefined) stored.filter = options.filter;
  await context.store.put(SUBSCRIPTION_STORE_KEY, stored);
  return stored;
}

async function deleteSubscription(context: HookContext, id: string): Promise<void> {
  try {
    await crmRequest(crmConnection(context.auth), { method: 'DELETE', path: `/api/webhooks/subscriptions/${encodeURIComponent(id)}` });
  } catch (error) {
    // Already gone (deleted by hand, or by an earlier attempt): that is what was wanted.
    if (!(error instanceof CrmApiError && error.status === 404)) throw error;
  }
}

/** Deletes the subscription onEnable made. If the CRM cannot be reached the error stands, and the store keeps the id for another try. */
export async function disableSubscription(context: HookContext): Promise<void> {
  const stored = await context.store.get<StoredSubscription>(SUBSCRIPTION_STORE_KEY);
  if (!stored) return;
  await deleteSubscription(context, stored.id);
  await context.store.delete(SUBSCRIPTION_STORE_KEY);
}

/**
 * The delivery's payload if it is signed with this flow's secret, fresh (5 minutes either way) and of a
 * matching event; otherwise null. The payload is parsed from the verified bytes themselves. Without a raw
 * body (an Activepieces that does not pass it through) the parsed body is serialised again: the CRM writes
 * its body with JSON.stringify, so that gives back the bytes it signed.
 */
export async function verifiedDelivery(context: RunContext, eventPattern: string): Promise<CrmEventPayload | null> {
  const stored = await context.store.get<StoredSubscription>(SUBSCRIPTION_STORE_KEY);
  if (!stored?.secret) return null;
  const { payload } = context;
  let bytes = rawBodyBytes(payload.rawBody);
  if (!bytes && payload.rawBody == null && payload.body && typeof payload.body === 'object') bytes = Buffer.from(JSON.stringify(payload.body), 'utf8');
  if (!bytes) return null;
  if (!verifyStandardWebhook({ secret: stored.secret, headers: payload.headers, body: bytes })) return null;

  let event: unknown;
  try {
    event = JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
  if (!event || typeof event !== 'object' || Array.isArray(event)) return null;
  const { event_name: name, event_id: id } = event as Record<string, unknown>;
  if (typeof name !== 'string' || typeof id !== 'string' || !matchesEventPattern(eventPattern, name)) return null;
  return event as CrmEventPayload;
}

interface DeliverySummary {
  id: string;
  event_id: string;
  event_name: string;
}

/**
 * The most recent real event of the tenant that matches, from the CRM's delivery log (newest first), or
 * null when there is none. Looks at the latest 20 deliveries and opens at most 10 of them.
 */
export async function latestRealEvent(
  context: AuthOnlyContext,
  eventPattern: string,
  accept: (event: CrmEventPayload) => boolean = () => true,
): Promise<CrmEventPayload | null> {
  const connection = crmConnection(context.auth);
  const exact = !eventPattern.includes('*');
  const { body: page } = await crmRequest<{ data: DeliverySummary[] }>(connection, {
    method: 'GET',
    path: '/api/webhooks/deliveries',
    query: { limit: 20, event_name: exact ? eventPattern : undefined },
  });
  const seen = new Set<string>();
  let opened = 0;
  for (const delivery of page?.data ?? []) {
    if (seen.has(delivery.event_id) || !matchesEventPattern(eventPattern, delivery.event_name)) continue;
    seen.add(delivery.event_id);
    if (++opened > 10) break;
    const { body: detail } = await crmRequest<{ payload?: CrmEventPayload }>(connection, { method: 'GET', path: `/api/webhooks/deliveries/${delivery.id}` });
    if (detail?.payload && accept(detail.payload)) return detail.payload;
  }
  return null;
}

/** The live catalog's example for the event (the first matching one for a pattern), or null. */
export async function catalogExample(context: AuthOnlyContext, eventPattern: string): Promise<CrmEventPayload | null> {
  const { body } = await crmRequest<{ data: Array<{ name: string; example: CrmEventPayload }> }>(crmConnection(context.auth), {
    method: 'GET',
    path: '/api/webhooks/event-types',
  });
  return body?.data?.find((type) => matchesEventPattern(eventPattern, type.name))?.example ?? null;
}

/** What `test` returns: the latest real matching event, else the catalog's example, else the trigger's sample data. */
export async function sampleEvents(
  context: AuthOnlyContext,
  eventPattern: string,
  fallback: unknown,
  accept?: (event: CrmEventPayload) => boolean,
): Promise<unknown[]> {
  const real = await latestRealEvent(context, eventPattern, accept);
  if (real) return [real];
  const example = await catalogExample(context, eventPattern).catch(() => null);
  return [example && (!accept || accept(example)) ? example : fallback];
}
