import { EVENT_NAMES, isEventName, type EventName } from './event-catalog.js';

/** Events only ever sent to one subscription on request, never fanned out. */
const DIRECT_ONLY: ReadonlySet<EventName> = new Set(['webhook.test']);

const PREFIXES = [...new Set(EVENT_NAMES.map((name) => name.split('.')[0]))];

/** What a subscription's event_name may be: a catalog name, `<prefix>.*`, or `*`. */
export const SUBSCRIBABLE_EVENT_NAMES: string[] = [...EVENT_NAMES.filter((name) => !DIRECT_ONLY.has(name)), ...PREFIXES.map((prefix) => `${prefix}.*`), '*'];

/** The subscription event_names that receive this event: itself, its prefix pattern and `*` (none for direct-only events). */
export function subscriptionKeysFor(eventName: string): string[] {
  if (!isEventName(eventName) || DIRECT_ONLY.has(eventName)) return [];
  return [eventName, `${eventName.split('.')[0]}.*`, '*'];
}

/** The catalog names a subscribable event_name (name or pattern) receives: the inverse of subscriptionKeysFor. */
export function eventNamesMatching(pattern: string): EventName[] {
  return EVENT_NAMES.filter((name) => subscriptionKeysFor(name).includes(pattern));
}
