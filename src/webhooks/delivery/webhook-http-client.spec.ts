import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseRetryAfter } from './webhook-http-client.js';

describe('parseRetryAfter', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads delta-seconds, surrounding whitespace allowed', () => {
    expect(parseRetryAfter('120')).toBe(120);
    expect(parseRetryAfter(' 5 ')).toBe(5);
    expect(parseRetryAfter('0')).toBe(0);
  });

  it('reads an HTTP date as the seconds from now, rounded up', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-06-01T12:00:00.000Z'));
    expect(parseRetryAfter('Mon, 01 Jun 2026 12:01:00 GMT')).toBe(60);
    vi.setSystemTime(new Date('2026-06-01T12:00:59.500Z'));
    expect(parseRetryAfter('Mon, 01 Jun 2026 12:01:00 GMT')).toBe(1);
  });

  it('reads an HTTP date in the past as 0, never a negative wait', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-06-01T12:00:00.000Z'));
    expect(parseRetryAfter('Sun, 31 May 2026 12:00:00 GMT')).toBe(0);
  });

  it.each([[undefined], [null], [''], ['   '], ['soon'], [['10']], [10]])('returns null for %j', (value) => {
    expect(parseRetryAfter(value)).toBeNull();
  });
});
