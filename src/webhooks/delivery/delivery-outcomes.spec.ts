import { describe, expect, it } from 'vitest';
import { decide } from './delivery-outcomes.js';
import type { AttemptResult } from './webhook-http-client.js';

const NOW = new Date('2026-06-01T12:00:00.000Z');
const SCHEDULE = [10, 60, 300];
const DAY_MS = 24 * 3600 * 1000;

function result(overrides: Partial<AttemptResult>): AttemptResult {
  return { succeeded: false, statusCode: null, durationMs: 5, errorCode: null, errorMessage: null, responseExcerpt: null, retryAfterSeconds: null, ...overrides };
}

const ok = result({ succeeded: true, statusCode: 200 });
const serverError = result({ statusCode: 503, errorCode: 'E_HTTP' });
const fresh = { attempts: 1, failingSince: null, enabled: true };

function delaySeconds(nextAttemptAt: Date | null): number {
  expect(nextAttemptAt).not.toBeNull();
  return (nextAttemptAt!.getTime() - NOW.getTime()) / 1000;
}

describe('decide', () => {
  it('marks a 2xx as succeeded, even on a disabled subscription or after three days of failures', () => {
    expect(decide(fresh, ok, SCHEDULE, NOW)).toEqual({ status: 'succeeded', nextAttemptAt: null, disableReason: null });
    expect(decide({ ...fresh, enabled: false, failingSince: new Date(NOW.getTime() - 4 * DAY_MS) }, ok, SCHEDULE, NOW).status).toBe('succeeded');
  });

  it('retries a 5xx after the scheduled delay for that attempt, within ±20 % jitter', () => {
    for (let attempt = 1; attempt <= SCHEDULE.length; attempt++) {
      for (let i = 0; i < 50; i++) {
        const decision = decide({ ...fresh, attempts: attempt }, serverError, SCHEDULE, NOW);
        expect(decision.status).toBe('pending');
        expect(decision.disableReason).toBeNull();
        const delay = delaySeconds(decision.nextAttemptAt);
        expect(delay).toBeGreaterThanOrEqual(SCHEDULE[attempt - 1] * 0.8);
        expect(delay).toBeLessThanOrEqual(SCHEDULE[attempt - 1] * 1.2);
      }
    }
  });

  it('gives up once every scheduled retry has been used', () => {
    expect(decide({ ...fresh, attempts: SCHEDULE.length + 1 }, serverError, SCHEDULE, NOW)).toEqual({ status: 'failed', nextAttemptAt: null, disableReason: null });
    expect(decide(fresh, serverError, [], NOW).status).toBe('failed');
  });

  it.each([
    ['429', result({ statusCode: 429, errorCode: 'E_HTTP' })],
    ['408', result({ statusCode: 408, errorCode: 'E_HTTP' })],
    ['500', result({ statusCode: 500, errorCode: 'E_HTTP' })],
    ['a timeout', result({ errorCode: 'E_TIMEOUT' })],
    ['a refused connection', result({ errorCode: 'E_CONNECTION' })],
    ['a DNS failure', result({ errorCode: 'E_DNS' })],
  ])('retries %s', (_label, attempt) => {
    expect(decide(fresh, attempt, SCHEDULE, NOW).status).toBe('pending');
  });

  it.each([
    ['400', result({ statusCode: 400, errorCode: 'E_HTTP' })],
    ['404', result({ statusCode: 404, errorCode: 'E_HTTP' })],
    ['a 3xx redirect (not followed)', result({ statusCode: 302, errorCode: 'E_HTTP' })],
    ['a blocked target', result({ errorCode: 'E_BLOCKED_TARGET' })],
  ])('fails %s at once, without disabling the subscription', (_label, attempt) => {
    expect(decide(fresh, attempt, SCHEDULE, NOW)).toEqual({ status: 'failed', nextAttemptAt: null, disableReason: null });
  });

  it('fails a 410 Gone at once and disables the subscription', () => {
    const decision = decide(fresh, result({ statusCode: 410, errorCode: 'E_HTTP' }), SCHEDULE, NOW);
    expect(decision.status).toBe('failed');
    expect(decision.nextAttemptAt).toBeNull();
    expect(decision.disableReason).toMatch(/410/);
  });

  it('does not retry or disable a delivery whose subscription was disabled meanwhile, even on 410', () => {
    const disabled = { ...fresh, enabled: false };
    expect(decide(disabled, serverError, SCHEDULE, NOW)).toEqual({ status: 'failed', nextAttemptAt: null, disableReason: null });
    expect(decide(disabled, result({ statusCode: 410, errorCode: 'E_HTTP' }), SCHEDULE, NOW).disableReason).toBeNull();
  });

  it('does not retry a one-off send (retryable: false)', () => {
    expect(decide({ ...fresh, retryable: false }, serverError, SCHEDULE, NOW)).toEqual({ status: 'failed', nextAttemptAt: null, disableReason: null });
  });

  it('disables the subscription once it has been failing for three days, and not a moment before', () => {
    const justUnder = decide({ ...fresh, failingSince: new Date(NOW.getTime() - 3 * DAY_MS + 1) }, serverError, SCHEDULE, NOW);
    expect(justUnder.status).toBe('pending');
    expect(justUnder.disableReason).toBeNull();
    const atLimit = decide({ ...fresh, failingSince: new Date(NOW.getTime() - 3 * DAY_MS) }, serverError, SCHEDULE, NOW);
    expect(atLimit).toEqual({ status: 'failed', nextAttemptAt: null, disableReason: expect.stringMatching(/3 days/) });
  });

  it('disables after three days even when the final failure is not retryable (a 400)', () => {
    const decision = decide({ ...fresh, failingSince: new Date(NOW.getTime() - 4 * DAY_MS) }, result({ statusCode: 400, errorCode: 'E_HTTP' }), SCHEDULE, NOW);
    expect(decision.disableReason).toMatch(/3 days/);
  });

  it("waits what Retry-After asks instead of the schedule, clamped to between 1 second and 24 hours", () => {
    const asked = (seconds: number) => delaySeconds(decide(fresh, result({ statusCode: 429, errorCode: 'E_HTTP', retryAfterSeconds: seconds }), SCHEDULE, NOW).nextAttemptAt);
    expect(asked(120)).toBe(120);
    expect(asked(0)).toBe(1);
    expect(asked(7 * 24 * 3600)).toBe(24 * 3600);
  });

  it('ignores Retry-After on a failure that is not retried', () => {
    const decision = decide(fresh, result({ statusCode: 400, errorCode: 'E_HTTP', retryAfterSeconds: 30 }), SCHEDULE, NOW);
    expect(decision).toEqual({ status: 'failed', nextAttemptAt: null, disableReason: null });
  });
});
