import type { Store } from '@activepieces/pieces-framework';
import { CrmApiError, crmConnection, crmRequest, type CrmConnection } from '../client';
import { catalogExample, latestRealEvent, matchesEventPattern, type CrmEventPayload } from './subscription';

/**
 * The polling side of the piece: the CRM's event feed (`GET /api/events`). The feed hands out an opaque
 * cursor that already guarantees "each event once, in order" (an event appears only once every older
 * transaction has ended), so the trigger keeps that cursor in the flow's store itself rather than going
 * through pieces-common's pollingHelper, whose two strategies dedupe on a timestamp or on the newest item's
 * id and would have to re-derive from the events what the cursor already says.
 */

/** What the polling trigger keeps in the flow's store between polls. */
export interface FeedState {
  /** The feed's next_cursor from the last poll: where the next poll resumes. */
  cursor: string;
  /** The event name or pattern the cursor was taken for. */
  event_name: string;
  /** The event_id of the latest emitted events, a safety net against emitting one twice. */
  recent_event_ids: string[];
}

export const FEED_STORE_KEY = 'junction_crm_feed';
/** Events asked for per request (the feed allows 1 to 200). */
export const FEED_PAGE_LIMIT = 100;
/** Requests per poll at most: a backlog larger than FEED_PAGE_LIMIT × FEED_MAX_PAGES drains over the next polls. */
export const FEED_MAX_PAGES = 10;
/** How many emitted event ids the store remembers for deduplication. */
export const FEED_RECENT_IDS = 500;

export interface FeedContext {
  auth: unknown;
  store: Store;
}

interface FeedPage {
  data: unknown[];
  next_cursor: string;
  has_more: boolean;
}

async function feedPage(connection: CrmConnection, query: Record<string, string | number | undefined>): Promise<FeedPage> {
  let body: FeedPage | undefined;
  try {
    ({ body } = await crmRequest<FeedPage>(connection, { method: 'GET', path: '/api/events', query }));
  } catch (error) {
    if (error instanceof CrmApiError && error.status === 404) {
      throw new Error(`${error.message}. The polling trigger needs a Junction CRM with the event feed (GET /api/events); with an older CRM use the webhook trigger CRM Event.`);
    }
    throw error;
  }
  if (!body || !Array.isArray(body.data) || typeof body.next_cursor !== 'string' || body.next_cursor === '') {
    throw new Error(`${connection.baseUrl}/api/events did not answer like the Junction CRM event feed: check the CRM URL (the root address, without /api).`);
  }
  return body;
}

/** Starts the feed at now (`?after=latest`): keeps the cursor, forgets what was emitted before. */
export async function startFeed(context: FeedContext, eventPattern: string, recentEventIds: string[] = []): Promise<FeedState> {
  const page = await feedPage(crmConnection(context.auth), { after: 'latest' });
  const state: FeedState = { cursor: page.next_cursor, event_name: eventPattern, recent_event_ids: recentEventIds.slice(-FEED_RECENT_IDS) };
  await context.store.put(FEED_STORE_KEY, state);
  return state;
}

export async function stopFeed(context: FeedContext): Promise<void> {
  await context.store.delete(FEED_STORE_KEY);
}

function isEnvelope(value: unknown): value is CrmEventPayload {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const { event_id: id, event_name: name } = value as Record<string, unknown>;
  return typeof id === 'string' && typeof name === 'string';
}

/**
 * One poll: every matching event since the stored cursor, oldest first, each the flat envelope a webhook
 * delivery carries; then the new cursor is stored. Follows has_more up to FEED_MAX_PAGES requests. A cursor
 * the CRM no longer accepts (400 INVALID_CURSOR) restarts the feed at now. Without a stored cursor (a flow
 * whose onEnable never ran) it starts at now and emits nothing.
 */
export async function pollFeed(context: FeedContext, eventPattern: string): Promise<CrmEventPayload[]> {
  const connection = crmConnection(context.auth);
  const state = await context.store.get<FeedState>(FEED_STORE_KEY);
  if (!state?.cursor) {
    await startFeed(context, eventPattern);
    return [];
  }
  const recent = Array.isArray(state.recent_event_ids) ? [...state.recent_event_ids] : [];
  const seen = new Set(recent);
  const events: CrmEventPayload[] = [];
  let cursor = state.cursor;
  for (let request = 0; request < FEED_MAX_PAGES; request++) {
    let page: FeedPage;
    try {
      page = await feedPage(connection, { after: cursor, event_name: eventPattern, limit: FEED_PAGE_LIMIT });
    } catch (error) {
      if (error instanceof CrmApiError && error.status === 400 && error.code === 'INVALID_CURSOR') {
        // The stored cursor is unusable (edited, or from another CRM): resume at now.
        await startFeed(context, eventPattern, [...recent, ...events.map((event) => event.event_id)]);
        return events;
      }
      throw error;
    }
    for (const item of page.data) {
      if (!isEnvelope(item) || seen.has(item.event_id) || !matchesEventPattern(eventPattern, item.event_name)) continue;
      seen.add(item.event_id);
      events.push(item);
    }
    cursor = page.next_cursor;
    if (!page.has_more) break;
  }
  const next: FeedState = {
    cursor,
    event_name: eventPattern,
    recent_event_ids: [...recent, ...events.map((event) => event.event_id)].slice(-FEED_RECENT_IDS),
  };
  await context.store.put(FEED_STORE_KEY, next);
  return events;
}

/**
 * What the polling trigger's `test` returns: the latest real matching event from the delivery log (there is
 * one when some subscription of the tenant received it); else the newest matching event on the first page of
 * the feed (its oldest kept events, for a tenant that has no subscriptions); else the catalog's example, else
 * the trigger's sample data.
 */
export async function feedSampleEvents(context: FeedContext, eventPattern: string, fallback: unknown): Promise<unknown[]> {
  const delivered = await latestRealEvent(context, eventPattern);
  if (delivered) return [delivered];
  const page = await feedPage(crmConnection(context.auth), { event_name: eventPattern, limit: 200 });
  const fromFeed = page.data.filter((item): item is CrmEventPayload => isEnvelope(item) && matchesEventPattern(eventPattern, item.event_name)).pop();
  if (fromFeed) return [fromFeed];
  return [(await catalogExample(context, eventPattern).catch(() => null)) ?? fallback];
}
