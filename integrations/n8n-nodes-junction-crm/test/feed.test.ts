import { describe, expect, it } from 'vitest';
import { FEED_MAX_PAGES, FeedCursorError, matchesEventPattern, pollFeed, type FeedPage, type FeedState } from '../nodes/shared/feed';
import { parseFilter, sameFilter } from '../nodes/shared/subscription';

const envelope = (id: string, name = 'deal.stage_changed') => ({ event_id: id, event_name: name, occurred_at: '2026-12-01T10:00:00.000Z' });

/** A feed answering from a list of pages, recording each query. */
function fakeFeed(pages: Array<FeedPage | Error>) {
  const calls: Array<Record<string, string | number>> = [];
  const fetchPage = async (qs: Record<string, string | number>) => {
    calls.push(qs);
    if (qs.after === 'latest') return { data: [], next_cursor: 'latest-cursor', has_more: false };
    const next = pages.shift();
    if (!next) return { data: [], next_cursor: String(qs.after), has_more: false };
    if (next instanceof Error) throw next;
    return next;
  };
  return { calls, fetchPage };
}

describe('the event feed poll', () => {
  it('starts at now on the first poll and emits nothing', async () => {
    const state: FeedState = {};
    const feed = fakeFeed([]);
    expect(await pollFeed(state, 'deal.*', feed.fetchPage)).toEqual([]);
    expect(feed.calls).toEqual([{ after: 'latest' }]);
    expect(state).toMatchObject({ cursor: 'latest-cursor', eventName: 'deal.*' });
  });

  it('emits every page while has_more, oldest first, and stores the last next_cursor', async () => {
    const state: FeedState = { cursor: 'c0', eventName: 'deal.*' };
    const feed = fakeFeed([
      { data: [envelope('a'), envelope('b')], next_cursor: 'c1', has_more: true },
      { data: [envelope('c')], next_cursor: 'c2', has_more: false },
    ]);
    const events = await pollFeed(state, 'deal.*', feed.fetchPage);
    expect(events.map((event) => event.event_id)).toEqual(['a', 'b', 'c']);
    expect(feed.calls).toEqual([
      { after: 'c0', event_name: 'deal.*', limit: 100 },
      { after: 'c1', event_name: 'deal.*', limit: 100 },
    ]);
    expect(state.cursor).toBe('c2');
    expect(state.recentEventIds).toEqual(['a', 'b', 'c']);
  });

  it('never emits an event twice, and skips what does not match the pattern', async () => {
    const state: FeedState = { cursor: 'c0', eventName: 'deal.*', recentEventIds: ['a'] };
    const feed = fakeFeed([{ data: [envelope('a'), envelope('b'), envelope('b'), envelope('x', 'contact.created')], next_cursor: 'c1', has_more: false }]);
    expect((await pollFeed(state, 'deal.*', feed.fetchPage)).map((event) => event.event_id)).toEqual(['b']);
    expect(await pollFeed(state, 'deal.*', fakeFeed([{ data: [envelope('b')], next_cursor: 'c2', has_more: false }]).fetchPage)).toEqual([]);
    expect(state.cursor).toBe('c2');
  });

  it('stops after FEED_MAX_PAGES requests and resumes from there next time', async () => {
    const state: FeedState = { cursor: 'c0', eventName: '*' };
    const pages = Array.from({ length: FEED_MAX_PAGES + 3 }, (_, i) => ({ data: [envelope(`e${i}`)], next_cursor: `c${i + 1}`, has_more: true }));
    const feed = fakeFeed(pages);
    expect(await pollFeed(state, '*', feed.fetchPage)).toHaveLength(FEED_MAX_PAGES);
    expect(state.cursor).toBe(`c${FEED_MAX_PAGES}`);
  });

  it('restarts at now on INVALID_CURSOR, keeping what it read before', async () => {
    const state: FeedState = { cursor: 'bad', eventName: '*' };
    const feed = fakeFeed([{ data: [envelope('a')], next_cursor: 'c1', has_more: true }, new FeedCursorError('after must be …')]);
    expect((await pollFeed(state, '*', feed.fetchPage)).map((event) => event.event_id)).toEqual(['a']);
    expect(state).toMatchObject({ cursor: 'latest-cursor', recentEventIds: ['a'] });
  });

  it('starts over at now when the event changed, and lets other errors through', async () => {
    const state: FeedState = { cursor: 'c0', eventName: 'contact.*' };
    expect(await pollFeed(state, 'deal.*', fakeFeed([]).fetchPage)).toEqual([]);
    expect(state).toMatchObject({ cursor: 'latest-cursor', eventName: 'deal.*' });
    await expect(pollFeed(state, 'deal.*', fakeFeed([new Error('ECONNREFUSED')]).fetchPage)).rejects.toThrow('ECONNREFUSED');
    expect(state.cursor).toBe('latest-cursor');
  });

  it('matches patterns the way subscriptions do', () => {
    expect(matchesEventPattern('*', 'contact.created')).toBe(true);
    expect(matchesEventPattern('deal.*', 'deal.stage_changed')).toBe(true);
    expect(matchesEventPattern('deal.*', 'contact.created')).toBe(false);
    expect(matchesEventPattern('deal.created', 'deal.created')).toBe(true);
  });
});

describe('the trigger filter', () => {
  it('is a JSON object, or null when empty', () => {
    expect(parseFilter('{"stage":"won"}')).toEqual({ stage: 'won' });
    expect(parseFilter({ stage: 'won' })).toEqual({ stage: 'won' });
    for (const empty of ['', '  ', '{}', undefined, null, {}]) expect(parseFilter(empty)).toBeNull();
    for (const bad of ['[1]', '"won"', '{stage', '3']) expect(() => parseFilter(bad)).toThrow('Filter must be a JSON object');
  });

  it('compares by content', () => {
    expect(sameFilter({ a: 1, b: { c: 2 } }, { b: { c: 2 }, a: 1 })).toBe(true);
    expect(sameFilter(null, {})).toBe(true);
    expect(sameFilter(undefined, null)).toBe(true);
    expect(sameFilter({ stage: 'won' }, { stage: 'lost' })).toBe(false);
    expect(sameFilter({ stage: 'won' }, null)).toBe(false);
  });
});
