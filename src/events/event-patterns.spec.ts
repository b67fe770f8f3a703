import { describe, expect, it } from 'vitest';
import { EVENT_NAMES } from './event-catalog.js';
import { eventNamesMatching, SUBSCRIBABLE_EVENT_NAMES, subscriptionKeysFor } from './event-patterns.js';

describe('subscriptionKeysFor', () => {
  it('gives an event its own name, its prefix pattern and *', () => {
    expect(subscriptionKeysFor('contact.created')).toEqual(['contact.created', 'contact.*', '*']);
  });

  it('uses only the first segment as the prefix of a three-part name', () => {
    expect(subscriptionKeysFor('webhook.subscription.disabled')).toEqual(['webhook.subscription.disabled', 'webhook.*', '*']);
  });

  it('fans webhook.test out to nobody: it is sent to one subscription on request', () => {
    expect(subscriptionKeysFor('webhook.test')).toEqual([]);
  });

  it.each([['contact.exploded'], ['contact.*'], ['*'], [''], ['Contact.Created']])('gives %j, not a catalog name, no keys', (name) => {
    expect(subscriptionKeysFor(name)).toEqual([]);
  });

  it('only ever names keys a subscription may be registered under', () => {
    for (const name of EVENT_NAMES) {
      for (const key of subscriptionKeysFor(name)) expect(SUBSCRIBABLE_EVENT_NAMES).toContain(key);
    }
  });
});

describe('eventNamesMatching', () => {
  it('is the inverse of subscriptionKeysFor', () => {
    expect(eventNamesMatching('contact.*').sort()).toEqual(['contact.created', 'contact.deleted', 'contact.updated']);
    expect(eventNamesMatching('deal.stage_changed')).toEqual(['deal.stage_changed']);
    expect(eventNamesMatching('*')).not.toContain('webhook.test');
    expect(eventNamesMatching('*')).toHaveLength(EVENT_NAMES.length - 1);
    expect(eventNamesMatching('webhook.test')).toEqual([]);
  });
});
