/**
 * The polling side of the package: the CRM's event feed (GET /api/events), with no n8n in it so it can be
 * tested alone. The feed's opaque cursor already means "each event once, in order" (an event appears only
 * once every older transaction has ended); the poll trigger keeps that cursor in the node's static data and
 * remembers the last event ids emitted as a safety net.
 */

export type FeedEnvelope = { event_id: string; event_name: string; [key: string]: unknown };

export interface FeedPage {
  data: unknown[];
  next_cursor: string;
  has_more: boolean;
}

/** What the poll trigger keeps in getWorkflowStaticData('node') between polls. */
export interface FeedState {
  /** The feed's next_cursor from the last poll: where the next poll resumes. */
  cursor?: string;
  /** The event name or pattern the cursor was taken for. */
  eventName?: string;
  /** The event_id of the latest emitted events. */
  recentEventIds?: string[];
  [key: string]: unknown;
}

/** Events asked for per request (the feed allows 1 to 200). */
export const FEED_PAGE_LIMIT = 100;
/** Requests per poll at most: a larger backlog drains over the next polls. */
export const FEED_MAX_PAGES = 10;
/** How many emitted event ids the static data remembers. */
export const FEED_RECENT_IDS = 500;

/** One GET /api/events with these query parameters; throws FeedCursorError for a 400 INVALID_CURSOR. */
export type FetchFeedPage = (qs: Record<string, string | number>) => Promise<FeedPage>;

export class FeedCursorError extends Error {}

/** `*` matches every event, `deal.*` every deal event, anything else itself. */
export function matchesEventPattern(pattern: string, eventName: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return eventName.startsWith(pattern.slice(0, -1));
  return pattern === eventName;
}

export function isEnvelope(value: unknown): value is FeedEnvelope {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const { event_id: id, event_name: name } = value as Record<string, unknown>;
  return typeof id === 'string' && typeof name === 'string';
}

/** A page that is not the feed's shape means the base URL points somewhere else. */
export function checkFeedPage(body: unknown, where: string): FeedPage {
  const page = body as FeedPage;
  if (!page || !Array.isArray(page.data) || typeof page.next_cursor !== 'string' || page.next_cursor === '') {
    throw new Error(`${where} did not answer like the Junction CRM event feed: check the credential's Base URL (the CRM's root address)`);
  }
  return page;
}

/** Starts the feed at now (?after=latest): stores the cursor, keeps the ids already emitted. */
export async function startFeed(state: FeedState, eventName: string, fetchPage: FetchFeedPage): Promise<void> {
  const page = await fetchPage({ after: 'latest' });
  state.cursor = page.next_cursor;
  state.eventName = eventName;
  state.recentEventIds = (state.recentEventIds ?? []).slice(-FEED_RECENT_IDS);
}

/**
 * One poll: every matching event since the stored cursor, oldest first, each the flat envelope a webhook
 * delivery carries; `state` is updated in place (n8n saves static data after the poll). Without a stored
 * cursor, or with one taken for another event, it starts at now and returns nothing. A cursor the CRM
 * refuses (400 INVALID_CURSOR) restarts at now.
 */
export async function pollFeed(state: FeedState, eventName: string, fetchPage: FetchFeedPage): Promise<FeedEnvelope[]> {
  if (!state.cursor || state.eventName !== eventName) {
    await startFeed(state, eventName, fetchPage);
    return [];
  }
  const recent = Array.isArray(state.recentEventIds) ? state.recentEventIds.filter((id) => typeof id === 'string') : [];
  const seen = new Set(recent);
  const events: FeedEnvelope[] = [];
  let cursor = state.cursor;
  for (let request = 0; request < FEED_MAX_PAGES; request++) {
    let page: FeedPage;
    try {
      page = await fetchPage({ after: cursor, event_name: eventName, limit: FEED_PAGE_LIMIT });
    } catch (error) {
      if (!(error instanceof FeedCursorError)) throw error;
      state.recentEventIds = [...recent, ...events.map((event) => event.event_id)].slice(-FEED_RECENT_IDS);
      await startFeed(state, eventName, fetchPage);
      return events;
    }
    for (const item of page.data) {
      if (!isEnvelope(item) || seen.has(item.event_id) || !matchesEventPattern(eventName, item.event_name)) continue;
      seen.add(item.event_id);
      events.push(item);
    }
    cursor = page.next_cursor;
    if (!page.has_more) break;
  }
  state.cursor = cursor;
  state.eventName = eventName;
  state.recentEventIds = [...recent, ...events.map((event) => event.event_id)].slice(-FEED_RECENT_IDS);
  return events;
}
