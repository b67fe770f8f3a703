import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { HttpActivity } from './http-activity.js';

const response = () => new EventEmitter() as unknown as ServerResponse;

describe('HttpActivity', () => {
  it('is idle before any request', () => {
    expect(new HttpActivity().busy).toBe(false);
  });

  it('is busy from a request until a little after the last response closes', async () => {
    const activity = new HttpActivity();
    const [first, second] = [response(), response()];
    activity.track(first);
    activity.track(second);
    first.emit('close');
    await sleep(150);
    expect(activity.busy, 'one still in flight').toBe(true);
    second.emit('close');
    expect(activity.busy, 'just ended: a steady load has gaps between requests').toBe(true);
    await sleep(150);
    expect(activity.busy).toBe(false);
  });

  it('counts a response once, however often it closes', async () => {
    const activity = new HttpActivity();
    const [first, second] = [response(), response()];
    activity.track(first);
    activity.track(second);
    first.emit('close');
    first.emit('close');
    await sleep(150);
    expect(activity.busy).toBe(true);
  });
});
