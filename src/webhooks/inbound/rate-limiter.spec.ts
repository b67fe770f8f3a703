import { describe, expect, it } from 'vitest';
import { TokenBucketLimiter } from './rate-limiter.js';

const T0 = 1_000_000;

describe('TokenBucketLimiter', () => {
  it('allows a burst at once, then refuses with the seconds to wait', () => {
    const limiter = new TokenBucketLimiter(2, 5);
    for (let i = 0; i < 5; i++) expect(limiter.take('tenant', T0)).toBe(0);
    expect(limiter.take('tenant', T0)).toBe(1);
  });

  it('refills at the rate, never above the burst', () => {
    const limiter = new TokenBucketLimiter(2, 5);
    for (let i = 0; i < 5; i++) limiter.take('tenant', T0);
    // 500 ms at 2/s is one token.
    expect(limiter.take('tenant', T0 + 500)).toBe(0);
    expect(limiter.take('tenant', T0 + 500)).toBeGreaterThan(0);
    // An hour idle refills to the burst, not to 7,200 tokens.
    const later = T0 + 3_600_000;
    for (let i = 0; i < 5; i++) expect(limiter.take('tenant', later)).toBe(0);
    expect(limiter.take('tenant', later)).toBeGreaterThan(0);
  });

  it('asks for a wait of whole seconds, rounded up, at least 1', () => {
    const slow = new TokenBucketLimiter(0.1, 1);
    expect(slow.take('tenant', T0)).toBe(0);
    expect(slow.take('tenant', T0)).toBe(10);
    expect(slow.take('tenant', T0 + 5_000)).toBe(5);
    const fast = new TokenBucketLimiter(100, 1);
    expect(fast.take('tenant', T0)).toBe(0);
    expect(fast.take('tenant', T0)).toBe(1);
  });

  it('does not spend a token on a refused request', () => {
    const limiter = new TokenBucketLimiter(1, 1);
    expect(limiter.take('tenant', T0)).toBe(0);
    for (let i = 0; i < 10; i++) expect(limiter.take('tenant', T0 + 100)).toBeGreaterThan(0);
    expect(limiter.take('tenant', T0 + 1_000)).toBe(0);
  });

  it('keeps one bucket per key: one tenant draining its own does not touch another', () => {
    const limiter = new TokenBucketLimiter(1, 2);
    expect(limiter.take('a', T0)).toBe(0);
    expect(limiter.take('a', T0)).toBe(0);
    expect(limiter.take('a', T0)).toBeGreaterThan(0);
    expect(limiter.take('b', T0)).toBe(0);
  });

  it('forgets every bucket when a new key would pass maxKeys, so memory stays bounded', () => {
    const limiter = new TokenBucketLimiter(1, 1, 2);
    expect(limiter.take('a', T0)).toBe(0);
    expect(limiter.take('b', T0)).toBe(0);
    expect(limiter.take('a', T0)).toBeGreaterThan(0);
    expect(limiter.take('c', T0)).toBe(0);
    // The buckets were cleared to make room for c: a starts full again.
    expect(limiter.take('a', T0)).toBe(0);
  });
});
