import { describe, expect, it } from 'vitest';
import { AppError } from '../../common/errors/app-error.js';
import { decodeFeedCursor, encodeFeedCursor, FEED_START, laterOf, positionBefore } from './feed-cursor.js';

const MAX_INT8 = 2n ** 63n - 1n;
const MAX_XID8 = 2n ** 64n - 1n;
const raw = (text: string) => Buffer.from(text).toString('base64url');

function decodeError(cursor: string): AppError {
  try {
    decodeFeedCursor(cursor);
  } catch (error) {
    return error as AppError;
  }
  throw new Error(`${cursor} was accepted`);
}

describe('feed cursor', () => {
  it('round-trips a position, up to the largest txid and seq', () => {
    for (const position of [FEED_START, { txid: 123n, seq: 45n }, { txid: MAX_XID8, seq: MAX_INT8 }]) {
      expect(decodeFeedCursor(encodeFeedCursor(position))).toEqual(position);
    }
  });

  it('is URL-safe opaque text', () => {
    expect(encodeFeedCursor({ txid: MAX_XID8, seq: MAX_INT8 })).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it.each([
    ['an empty string', ''],
    ['latest (handled before decoding)', 'latest'],
    ['another version', raw('v2:1:1')],
    ['a missing seq', raw('v1:1')],
    ['a negative number', raw('v1:-1:1')],
    ['trailing text', raw('v1:1:1:extra')],
    ['a txid past 2^64-1', raw(`v1:${MAX_XID8 + 1n}:1`)],
    ['a seq past 2^63-1', raw(`v1:1:${MAX_INT8 + 1n}`)],
  ])('refuses %s with INVALID_CURSOR naming the after parameter', (_label, cursor) => {
    const error = decodeError(cursor);
    expect(error).toBeInstanceOf(AppError);
    expect(error.code).toBe('INVALID_CURSOR');
    expect(error.details).toEqual([{ field: 'after', message: expect.stringMatching(/next_cursor/) }]);
  });
});

describe('positionBefore', () => {
  it('sits after every event of transactions older than the horizon, and before the horizon itself', () => {
    const position = positionBefore(100n);
    expect(position).toEqual({ txid: 99n, seq: MAX_INT8 });
    expect(laterOf(position, { txid: 99n, seq: 10n ** 12n })).toBe(position);
    expect(laterOf(position, { txid: 100n, seq: 1n })).toEqual({ txid: 100n, seq: 1n });
  });

  it('does not go below zero', () => {
    expect(positionBefore(0n)).toEqual({ txid: 0n, seq: MAX_INT8 });
  });
});

describe('laterOf', () => {
  it('orders by txid first, then seq, and keeps the first of two equal positions', () => {
    const a = { txid: 5n, seq: 1n };
    const b = { txid: 4n, seq: 999n };
    expect(laterOf(a, b)).toBe(a);
    expect(laterOf(b, a)).toBe(a);
    const c = { txid: 5n, seq: 2n };
    expect(laterOf(a, c)).toBe(c);
    const same = { txid: 5n, seq: 1n };
    expect(laterOf(a, same)).toBe(a);
  });
});
