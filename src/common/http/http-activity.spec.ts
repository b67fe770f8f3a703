import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { HttpActivity } from './http-activity.js';

const response = () => new EventEmitter() as unknown as ServerResponse;

/** Holds the event loop for `ms`: nothing else can run. */
function hold(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

/** Two requests in flight on a new HttpActivity. */
function twoInFlight(): { activity: HttpActivity; first: ServerResponse; second: ServerResponse } {
  const activity = new HttpActivity();
  const [first, second] = [response(), response()];
  activity.track(first);
  activity.track(second);
  return { activity, first, second };
}

describe('HttpActivity', () => {
  it('is idle before any request', () => {
    expect(new HttpActivity().busy).toBe(false);
  });

  it('is busy from a request until a little after the last response closes', async () => {
    const { activity, first, second } = twoInFlight();
    first.emit('close');
    await sleep(150);
    expect(activity.busy, 'one still in flight').toBe(true);
    second.emit('close');
    expect(activity.busy, 'just ended: a steady load has gaps between requests').toBe(true);
    await sleep(150);
    expect(activity.busy).toBe(false);
  });

  it('counts a response once, however often it closes', async () => {
    const { activity, first } = twoInFlight();
    first.emit('close');
    first.emit('close');
    await sleep(150);
    expect(activity.busy).toBe(true);
  });

  it('is loaded after a window in which the event loop had no idle time, and not after one it had', async () => {
    const activity = new HttpActivity();
    await sleep(120);
    expect(activity.loaded, 'idle since it was made').toBe(false);
    hold(150);
    expect(activity.loaded).toBe(true);
    expect(activity.loaded, 'measured again only once the next window is over').toBe(true);
    await sleep(150);
    expect(activity.loaded).toBe(false);
  });

  it('is loaded while 32 or more requests were in flight over about the last 100 ms (the loop idle), and not with fewer', async () => {
    const activity = new HttpActivity();
    const responses = Array.from({ length: 40 }, () => response());
    responses.slice(0, 8).forEach((each) => activity.track(each));
    await sleep(120);
    expect(activity.loaded, '8 in flight').toBe(false);
    responses.slice(8).forEach((each) => activity.track(each));
    await sleep(120);
    expect(activity.loaded, '40 in flight').toBe(true);
    responses.slice(8).forEach((each) => each.emit('close'));
    await sleep(120);
    expect(activity.loaded, '8 in flight again').toBe(false);
  });
});
